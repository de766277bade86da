/* Gapo's compose form with photos and videos: each file uploads as soon as it is chosen.
 *
 * Without this script the form's `files` input posts the files with the post (multipart).
 * With it, the input only picks files: its name is removed so the raw files never post
 * twice. Each file goes to POST /media at once (XMLHttpRequest, for the upload progress),
 * with the CSRF token in the X-CSRF-Token header. The answer's id becomes a hidden
 * `media_ids` field (in the order of the list), the alt text a `description_<id>` field and
 * the focal point a `focus_<id>` field ("x,y", Mastodon's convention: -1..1, y up). Videos
 * and animations answer "processing"; GET /media/<id>/state is polled until ready or failed.
 * The submit button stays disabled while anything is uploading or processing.
 *
 * Messages come translated from data-msg-* attributes of templates/_compose.html; an
 * error from the server comes translated in its JSON `error`.
 */
(function () {
  "use strict";

  var UPLOAD_URL = "/media";
  var POLL_MS = 2000;
  var MAX_DESCRIPTION = 1500; // instance/posts/attachments.py MAX_DESCRIPTION
  var KEY_STEP = 0.1; // a focal point moves by a twentieth of the picture per arrow key
  var counter = 0;

  function stateUrl(id) {
    return "/media/" + encodeURIComponent(id) + "/state";
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function parseJson(text) {
    try {
      return JSON.parse(text);
    } catch (err) {
      return null;
    }
  }

  function updateCounter(textarea, output) {
    output.textContent = textarea.value.length + " / " + (textarea.maxLength > 0 ? textarea.maxLength : MAX_DESCRIPTION);
  }

  // A "n / 1500" counter after every textarea marked data-counter (the edit page's alt text).
  function countAll(root) {
    root.querySelectorAll("textarea[data-counter]:not([data-counted])").forEach(function (textarea) {
      textarea.setAttribute("data-counted", "");
      var output = make("span", "counter");
      output.setAttribute("aria-hidden", "true");
      textarea.insertAdjacentElement("afterend", output);
      updateCounter(textarea, output);
      textarea.addEventListener("input", function () {
        updateCounter(textarea, output);
      });
    });
  }

  function Composer(box) {
    this.box = box;
    this.form = box.closest("form");
    this.input = box.querySelector("input[type=file]");
    this.list = box.querySelector("[data-attachments]");
    this.error = box.querySelector("[data-media-error]");
    this.sensitive = box.querySelector("[data-media-sensitive]");
    this.submit = this.form.querySelector("button[type=submit], button:not([type])");
    this.max = parseInt(box.getAttribute("data-max"), 10) || 4;
    this.items = [];
    var token = this.form.querySelector("input[name=csrf_token]");
    this.token = token ? token.value : "";
    var self = this;

    this.input.removeAttribute("name");
    this.input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(self.input.files || []);
      self.input.value = "";
      self.add(files);
    });
    this.form.addEventListener("submit", function (event) {
      if (self.pending() > 0) {
        event.preventDefault();
        self.say(self.msg("pending"));
      }
    });
    this.refresh();
  }

  Composer.prototype.msg = function (name, number) {
    var text = this.box.getAttribute("data-msg-" + name) || "";
    return number === undefined ? text : text.replace("{n}", String(number));
  };

  Composer.prototype.say = function (text) {
    this.error.textContent = text || "";
    this.error.hidden = !text;
  };

  Composer.prototype.pending = function () {
    return this.items.filter(function (item) {
      return item.state === "uploading" || item.state === "processing";
    }).length;
  };

  Composer.prototype.refresh = function () {
    var busy = this.pending() > 0;
    if (this.submit) {
      this.submit.disabled = busy;
      this.submit.setAttribute("aria-disabled", busy ? "true" : "false");
    }
    this.form.setAttribute("aria-busy", busy ? "true" : "false");
    this.sensitive.hidden = this.items.length === 0;
    var self = this;
    this.items.forEach(function (item, index) {
      item.li.setAttribute("aria-label", self.msg("attachment", index + 1));
      item.remove.setAttribute("aria-label", self.msg("remove-label", index + 1));
    });
    var room = this.max - this.counted();
    this.input.disabled = room <= 0;
  };

  // Attachments that take a place: everything but the failed ones, which can only be removed.
  Composer.prototype.counted = function () {
    return this.items.filter(function (item) {
      return item.state !== "failed";
    }).length;
  };

  Composer.prototype.add = function (files) {
    var room = this.max - this.counted();
    this.say(files.length > room ? this.msg("too-many") : "");
    var self = this;
    files.slice(0, Math.max(0, room)).forEach(function (file) {
      self.items.push(self.upload(file));
    });
    this.refresh();
  };

  Composer.prototype.upload = function (file) {
    counter += 1;
    var self = this;
    var item = { state: "uploading", id: null, xhr: null, timer: null, url: null, focus: [0, 0] };
    var li = make("li", "attachment");
    item.li = li;

    // The preview: the chosen picture itself (a blob: URL) or, for a video, its poster later.
    var picker = make("button", "attachment-preview");
    picker.type = "button";
    picker.disabled = true;
    var marker = make("span", "focus-marker");
    marker.hidden = true;
    var placeholder = make("span", "attachment-placeholder", file.type.indexOf("video/") === 0 ? "▶" : "");
    picker.appendChild(placeholder);
    picker.appendChild(marker);
    item.picker = picker;
    item.marker = marker;
    // Named from the start (a disabled button still needs a name); images get a focal point.
    picker.setAttribute("aria-label", file.type.indexOf("image/") === 0 ? this.msg("focus") : file.name);
    if (file.type.indexOf("image/") === 0 && window.URL && URL.createObjectURL) {
      item.url = URL.createObjectURL(file);
      this.preview(item, item.url);
    }
    li.appendChild(picker);

    var body = make("div", "attachment-body");
    body.appendChild(make("p", "attachment-name", file.name));
    var progress = make("progress");
    progress.max = 100;
    progress.value = 0;
    body.appendChild(progress);
    var status = make("p", "attachment-status", this.msg("uploading"));
    status.setAttribute("role", "status");
    body.appendChild(status);
    var altId = "attachment-alt-" + counter;
    var label = make("label", "", this.msg("alt"));
    label.htmlFor = altId;
    var alt = make("textarea");
    alt.id = altId;
    alt.rows = 2;
    alt.maxLength = MAX_DESCRIPTION;
    alt.setAttribute("data-counter", "");
    body.appendChild(label);
    body.appendChild(alt);
    var remove = make("button", "attachment-remove", this.msg("remove"));
    remove.type = "button";
    remove.addEventListener("click", function () {
      self.drop(item);
    });
    body.appendChild(remove);
    li.appendChild(body);
    item.progress = progress;
    item.status = status;
    item.alt = alt;
    item.remove = remove;
    this.list.appendChild(li);
    countAll(li);

    var data = new FormData();
    data.append("file", file);
    var xhr = new XMLHttpRequest();
    item.xhr = xhr;
    xhr.open("POST", UPLOAD_URL);
    xhr.setRequestHeader("X-CSRF-Token", this.token);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        progress.value = Math.round((event.loaded / event.total) * 100);
      }
    });
    xhr.addEventListener("load", function () {
      item.xhr = null;
      var answer = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300 && answer && answer.id) {
        self.accept(item, answer);
      } else {
        self.fail(item, answer && answer.error);
      }
    });
    xhr.addEventListener("error", function () {
      item.xhr = null;
      self.fail(item, null);
    });
    xhr.send(data);
    return item;
  };

  Composer.prototype.preview = function (item, src) {
    var self = this;
    var img = item.picker.querySelector("img");
    if (!img) {
      img = make("img");
      img.alt = "";
      item.picker.insertBefore(img, item.marker);
      img.addEventListener("error", function () {
        // A format this browser cannot show (HEIC), or a policy without blob: images: the
        // server's preview replaces it when there is one.
        img.hidden = true;
        if (item.serverPreview && img.getAttribute("src") !== item.serverPreview) {
          img.src = item.serverPreview;
        } else {
          item.picker.querySelector(".attachment-placeholder").hidden = false;
        }
      });
      img.addEventListener("load", function () {
        img.hidden = false;
      });
    }
    img.src = src;
    item.picker.querySelector(".attachment-placeholder").hidden = true;
    if (!item.pickerReady) {
      item.pickerReady = true;
      item.picker.addEventListener("click", function (event) {
        if (event.detail === 0) {
          return; // Enter or Space: the arrow keys move the point instead
        }
        var rect = img.getBoundingClientRect();
        if (rect.width > 0 && rect.height > 0) {
          self.setFocus(item, ((event.clientX - rect.left) / rect.width) * 2 - 1, 1 - ((event.clientY - rect.top) / rect.height) * 2);
        }
      });
      item.picker.addEventListener("keydown", function (event) {
        var moves = { ArrowLeft: [-KEY_STEP, 0], ArrowRight: [KEY_STEP, 0], ArrowUp: [0, KEY_STEP], ArrowDown: [0, -KEY_STEP] };
        var move = moves[event.key];
        if (move) {
          event.preventDefault();
          self.setFocus(item, item.focus[0] + move[0], item.focus[1] + move[1]);
        }
      });
    }
  };

  Composer.prototype.setFocus = function (item, x, y) {
    x = Math.round(Math.max(-1, Math.min(1, x)) * 100) / 100;
    y = Math.round(Math.max(-1, Math.min(1, y)) * 100) / 100;
    item.focus = [x, y];
    item.marker.hidden = false;
    item.marker.style.left = ((x + 1) / 2) * 100 + "%";
    item.marker.style.top = ((1 - y) / 2) * 100 + "%";
    if (item.focusInput) {
      item.focusInput.value = x + "," + y;
    }
  };

  Composer.prototype.accept = function (item, answer) {
    var id = String(answer.id);
    item.id = id;
    item.kind = answer.kind;
    item.alt.name = "description_" + id;
    var idInput = make("input");
    idInput.type = "hidden";
    idInput.name = "media_ids";
    idInput.value = id;
    var focusInput = make("input");
    focusInput.type = "hidden";
    focusInput.name = "focus_" + id;
    focusInput.value = item.focus[0] + "," + item.focus[1];
    item.li.appendChild(idInput);
    item.li.appendChild(focusInput);
    item.idInput = idInput;
    item.focusInput = focusInput;
    if (answer.kind === "image") {
      item.picker.disabled = false;
    }
    this.progressed(item, answer);
  };

  Composer.prototype.progressed = function (item, answer) {
    var self = this;
    if (answer.state === "processing") {
      item.state = "processing";
      item.progress.removeAttribute("value"); // indeterminate: the server gives no fraction
      item.status.textContent = this.msg("processing");
      item.timer = window.setTimeout(function () {
        self.check(item);
      }, POLL_MS);
    } else if (answer.state === "failed") {
      this.fail(item, answer.error);
      return;
    } else {
      item.state = "ready";
      item.progress.hidden = true;
      item.status.textContent = this.msg("ready");
      item.serverPreview = answer.preview_url || null;
      var shown = item.picker.querySelector("img");
      if (item.serverPreview && (!item.url || (shown && shown.hidden))) {
        this.preview(item, item.serverPreview);
      }
    }
    this.refresh();
  };

  Composer.prototype.check = function (item) {
    var self = this;
    item.timer = null;
    var xhr = new XMLHttpRequest();
    item.xhr = xhr;
    xhr.open("GET", stateUrl(item.id));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.addEventListener("load", function () {
      item.xhr = null;
      var answer = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300 && answer) {
        self.progressed(item, answer);
      } else {
        self.fail(item, answer && answer.error);
      }
    });
    xhr.addEventListener("error", function () {
      // A dropped connection is not the file's fault: ask again.
      item.xhr = null;
      item.timer = window.setTimeout(function () {
        self.check(item);
      }, POLL_MS);
    });
    xhr.send();
  };

  Composer.prototype.fail = function (item, message) {
    item.state = "failed";
    item.progress.hidden = true;
    item.status.textContent = message || this.msg("failed");
    item.status.setAttribute("role", "alert");
    item.li.classList.add("is-failed");
    // A failed file is not attached: its fields leave the form.
    [item.idInput, item.focusInput].forEach(function (input) {
      if (input) {
        input.remove();
      }
    });
    item.alt.removeAttribute("name");
    item.picker.disabled = true;
    this.refresh();
  };

  Composer.prototype.drop = function (item) {
    if (item.xhr) {
      item.xhr.abort();
    }
    if (item.timer) {
      window.clearTimeout(item.timer);
    }
    if (item.url) {
      URL.revokeObjectURL(item.url);
    }
    item.li.remove();
    this.items = this.items.filter(function (other) {
      return other !== item;
    });
    this.say("");
    this.refresh();
    this.input.focus();
  };

  if (!window.XMLHttpRequest || !window.FormData) {
    return; // the files post with the form, as without JavaScript
  }
  document.querySelectorAll("[data-composer-media]").forEach(function (box) {
    if (box.closest("form")) {
      new Composer(box);
    }
  });
  countAll(document);
})();
