/* Gapo's attachments on post cards: blurhash placeholders, focal points, a lightbox,
 * animations that play on hover, and "Processing…" placeholders that turn into the file.
 *
 * Everything here improves markup that already works without it (templates/_media.html):
 * links open the full image, videos have controls, <details> hide sensitive media and show
 * the alt text. The Content-Security-Policy forbids style attributes in markup, so per-item
 * values come in data attributes and are set here through the CSSOM, which it allows.
 *
 * Cards swapped in by static/app.js are enhanced too (a MutationObserver); clicks are
 * delegated from the document, so they need nothing per card.
 */
(function () {
  "use strict";

  var POLL_MS = 2000; // the contract's pace for GET /media/<id>/state
  var POLL_LIMIT = 450; // 15 minutes, far beyond the transcoder's limits: then give up
  var reducedMotion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : null;

  function clamp(value) {
    return Math.max(-1, Math.min(1, value));
  }

  // Mastodon's focal point (x right-positive, y up-positive, each -1..1) as object-position.
  function setFocus(item) {
    var parts = (item.getAttribute("data-focus") || "").split(",");
    var x = clamp(parseFloat(parts[0]) || 0);
    var y = clamp(parseFloat(parts[1]) || 0);
    item.style.setProperty("--focus-x", ((x + 1) / 2) * 100 + "%");
    item.style.setProperty("--focus-y", ((1 - y) / 2) * 100 + "%");
  }

  function paintBlurhash(canvas) {
    var hash = canvas.getAttribute("data-blurhash");
    var decoder = window.GapoBlurhash;
    if (!decoder || !hash) {
      return;
    }
    var average = decoder.average(hash);
    if (average && canvas.parentElement) {
      canvas.parentElement.style.setProperty("--media-average", average);
    }
    decoder.paint(canvas, hash);
  }

  function watchLoad(item) {
    var img = item.querySelector("img");
    if (!img) {
      return;
    }
    function loaded() {
      item.classList.add("is-loaded");
    }
    if (img.complete && img.naturalWidth > 0) {
      loaded();
    } else {
      img.addEventListener("load", loaded, { once: true });
    }
  }

  function setUpGifv(video) {
    // Controls are the no-JavaScript way to play it; here a hover or a click does.
    video.removeAttribute("controls");
    video.setAttribute("tabindex", "0");
    video.classList.add("is-enhanced");
  }

  function enhance(root) {
    if (!root.querySelectorAll) {
      return;
    }
    root.querySelectorAll(".media-item[data-focus]:not([data-ready])").forEach(function (item) {
      item.setAttribute("data-ready", "");
      setFocus(item);
      watchLoad(item);
    });
    root.querySelectorAll("canvas[data-blurhash]:not([data-painted])").forEach(function (canvas) {
      canvas.setAttribute("data-painted", "");
      paintBlurhash(canvas);
    });
    root.querySelectorAll("video[data-gifv]:not(.is-enhanced)").forEach(setUpGifv);
    root.querySelectorAll("[data-media-processing]:not([data-polling])").forEach(poll);
  }

  // --- Animations (gifv): hover plays unless reduced motion is asked for; click toggles. ---

  function toggle(video) {
    if (video.paused) {
      video.play().catch(function () {});
    } else {
      video.pause();
    }
  }

  document.addEventListener(
    "mouseenter",
    function (event) {
      var video = event.target;
      if (video instanceof HTMLVideoElement && video.classList.contains("is-enhanced")) {
        if (!(reducedMotion && reducedMotion.matches)) {
          video.play().catch(function () {});
        }
      }
    },
    true
  );
  document.addEventListener(
    "mouseleave",
    function (event) {
      var video = event.target;
      if (video instanceof HTMLVideoElement && video.classList.contains("is-enhanced")) {
        video.pause();
      }
    },
    true
  );

  // --- The lightbox: a modal <dialog> (the page behind is inert, Escape closes it). ---

  var box = null;
  var shown = { links: [], index: 0, opener: null };

  function buildBox() {
    var template = document.getElementById("lightbox-template");
    if (!template || !template.content || typeof HTMLDialogElement === "undefined") {
      return null;
    }
    var dialog = template.content.firstElementChild.cloneNode(true);
    document.body.appendChild(dialog);
    dialog.querySelector("[data-close]").addEventListener("click", function () {
      dialog.close();
    });
    dialog.querySelector("[data-prev]").addEventListener("click", function () {
      step(-1);
    });
    dialog.querySelector("[data-next]").addEventListener("click", function () {
      step(1);
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Tab") {
        // The modal makes the page inert; this also keeps Tab from leaving for the
        // browser's own controls, cycling through the dialog's visible buttons.
        var buttons = Array.prototype.filter.call(dialog.querySelectorAll("button"), function (b) {
          return !b.hidden;
        });
        var at = buttons.indexOf(document.activeElement);
        var next = (at + (event.shiftKey ? -1 : 1) + buttons.length) % buttons.length;
        event.preventDefault();
        buttons[at < 0 ? 0 : next].focus();
      } else if (event.key === "ArrowLeft") {
        step(-1);
      } else if (event.key === "ArrowRight") {
        step(1);
      }
    });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) {
        dialog.close(); // a click on the backdrop
      }
    });
    dialog.addEventListener("close", function () {
      var image = dialog.querySelector("[data-image]");
      image.removeAttribute("src");
      if (shown.opener && document.contains(shown.opener)) {
        shown.opener.focus();
      }
    });
    return dialog;
  }

  function show(index) {
    var link = shown.links[index];
    var thumb = link.querySelector("img");
    var alt = link.parentElement.querySelector(".media-alt p");
    var image = box.querySelector("[data-image]");
    shown.index = index;
    image.src = link.href;
    image.alt = thumb ? thumb.alt : "";
    var text = box.querySelector("[data-alt]");
    text.textContent = alt ? alt.textContent : "";
    text.hidden = !alt;
    var several = shown.links.length > 1;
    box.querySelector("[data-prev]").hidden = !several;
    box.querySelector("[data-next]").hidden = !several;
    var counter = box.querySelector("[data-counter]");
    counter.hidden = !several;
    counter.textContent = index + 1 + " / " + shown.links.length;
  }

  function step(delta) {
    if (shown.links.length > 1) {
      var count = shown.links.length;
      show((shown.index + delta + count) % count);
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) {
      return;
    }
    var video = target.closest("video.is-enhanced");
    if (video) {
      event.preventDefault();
      toggle(video);
      return;
    }
    var link = target.closest("a[data-lightbox]");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return; // a new tab or window is the browser's business
    }
    box = box || buildBox();
    if (!box) {
      return; // no <dialog>: the link opens the file
    }
    event.preventDefault();
    var grid = link.closest("[data-media-grid]") || link.parentElement;
    shown.links = Array.prototype.slice.call(grid.querySelectorAll("a[data-lightbox]"));
    shown.opener = link;
    show(Math.max(0, shown.links.indexOf(link)));
    box.showModal();
    box.querySelector("[data-close]").focus();
  });

  document.addEventListener("keydown", function (event) {
    var video = event.target;
    if ((event.key === "Enter" || event.key === " ") && video instanceof HTMLVideoElement && video.classList.contains("is-enhanced")) {
      event.preventDefault();
      toggle(video);
    }
  });

  // --- "Processing…" on one's own new post: poll until the file is ready, then show it. ---

  function element(tag, attributes) {
    var node = document.createElement(tag);
    Object.keys(attributes).forEach(function (name) {
      if (attributes[name] !== null && attributes[name] !== undefined && attributes[name] !== false) {
        node.setAttribute(name, attributes[name] === true ? "" : String(attributes[name]));
      }
    });
    return node;
  }

  function playerFor(media) {
    var size = media.width && media.height ? { width: media.width, height: media.height } : {};
    if (media.kind === "image") {
      var link = element("a", { class: "media-link", href: media.url, "data-lightbox": true });
      link.appendChild(element("img", Object.assign({ src: media.preview_url || media.url, alt: media.description || "" }, size)));
      return link;
    }
    var gifv = media.kind === "gifv";
    var video = element("video", Object.assign({
      controls: !gifv,
      preload: "metadata",
      playsinline: true,
      loop: gifv,
      muted: gifv,
      poster: media.preview_url,
      src: media.url,
      "aria-label": media.description || null,
    }, size));
    if (gifv) {
      video.muted = true;
      video.setAttribute("data-gifv", "");
    }
    return video;
  }

  function poll(placeholder) {
    placeholder.setAttribute("data-polling", "");
    var id = placeholder.getAttribute("data-media-processing");
    var tries = 0;
    function again() {
      tries += 1;
      if (tries > POLL_LIMIT || !document.contains(placeholder)) {
        return;
      }
      window.setTimeout(check, POLL_MS);
    }
    function check() {
      fetch("/media/" + encodeURIComponent(id) + "/state", {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          // Only the uploader may ask; anyone else's page keeps its placeholder.
          return response.ok ? response.json() : null;
        })
        .then(function (media) {
          if (!media) {
            return;
          }
          if (media.state === "processing") {
            again();
          } else if (media.state === "failed" || !media.url) {
            placeholder.textContent = media.error || placeholder.textContent;
          } else {
            var item = placeholder.parentElement;
            placeholder.replaceWith(playerFor(media));
            enhance(item.parentElement || item);
          }
        })
        .catch(again);
    }
    again();
  }

  enhance(document);
  if (window.MutationObserver) {
    new MutationObserver(function (records) {
      records.forEach(function (record) {
        record.addedNodes.forEach(function (node) {
          if (node.nodeType === 1) {
            enhance(node);
          }
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  }
})();
