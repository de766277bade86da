/* Gapo's feed and composer, enhanced: every part works without this script.
 *
 * - Time zone: the browser's IANA zone goes into the `gapo_tz` cookie, so the server
 *   writes times in the reader's zone from the next page on (it checks the name against
 *   its tz database and falls back to the instance default otherwise).
 * - Character counter: a textarea with `data-max-chars` counts down in the form's
 *   `[data-char-count]` (the server counts code points after trimming, and a newline is
 *   sent as CR LF, so it counts two).
 * - Dialogs: a link with `data-dialog="<id>"` opens that <dialog> instead of its page (the
 *   delete confirmation); a `[data-close]` button in it closes it.
 * - New posts: a feed's `[data-newer]` asks its `data-newer-url` (answered
 *   `{"count": n, "capped": bool}`) every 30 seconds while the tab is visible, and at once
 *   when it becomes visible again; when newer posts exist a button says so, and pressing
 *   it loads the top of the feed in place of the listing, without reloading the page.
 *
 * No inline script and no inline style: the Content-Security-Policy forbids both.
 */
(function () {
  "use strict";

  var ZONE_COOKIE = "gapo_tz";
  var POLL_MS = 30000;

  function announce(text) {
    var live = document.getElementById("live");
    if (!live) {
      return;
    }
    live.textContent = "";
    window.setTimeout(function () {
      live.textContent = text;
    }, 50);
  }

  // --- time zone -------------------------------------------------------------------------

  function rememberZone() {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (err) {
      return;
    }
    // The characters of IANA names only: nothing else ever goes into the cookie.
    if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) {
      return;
    }
    var current = document.cookie.split("; ").filter(function (part) {
      return part.indexOf(ZONE_COOKIE + "=") === 0;
    })[0];
    if (current === ZONE_COOKIE + "=" + zone) {
      return;
    }
    var secure = window.location.protocol === "https:" ? "; secure" : "";
    document.cookie =
      ZONE_COOKIE + "=" + zone + "; path=/; max-age=31536000; samesite=lax" + secure;
  }

  // --- character counter -----------------------------------------------------------------

  function length(text) {
    var trimmed = text.trim();
    var newlines = (trimmed.match(/\n/g) || []).length;
    return Array.from(trimmed).length + newlines;
  }

  function updateCounter(area) {
    var form = area.form;
    var counter = form ? form.querySelector("[data-char-count]") : null;
    var max = parseInt(area.getAttribute("data-max-chars"), 10);
    if (!counter || !max) {
      return;
    }
    var left = max - length(area.value);
    var wasOver = counter.classList.contains("over");
    var over = left < 0;
    var template = over ? counter.dataset.msgOver : counter.dataset.msgLeft;
    counter.textContent = template.replace("{n}", String(Math.abs(left)));
    counter.classList.toggle("over", over);
    if (over !== wasOver) {
      announce(counter.textContent); // only when crossing the limit, not on every key
    }
  }

  document.addEventListener("input", function (event) {
    var area = event.target;
    if (area instanceof HTMLTextAreaElement && area.hasAttribute("data-max-chars")) {
      updateCounter(area);
    }
  });

  // --- dialogs ---------------------------------------------------------------------------

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var opener = target ? target.closest("a[data-dialog]") : null;
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog"));
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        dialog.showModal();
        // Cancel first: Enter or Space on an unintended open must not delete anything.
        var safe = dialog.querySelector("[data-close]") || dialog.querySelector("button");
        if (safe) {
          safe.focus();
        }
      }
      return;
    }
    var closer = target ? target.closest("dialog.confirm [data-close]") : null;
    if (closer) {
      closer.closest("dialog").close();
    }
  });

  // --- new posts -------------------------------------------------------------------------

  function setupNewer(box) {
    var timer = null;
    var button = box.querySelector("[data-newer-load]");

    async function check() {
      if (document.visibilityState !== "visible" || !box.isConnected) {
        return;
      }
      var answer;
      try {
        var response = await fetch(box.dataset.newerUrl, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (!response.ok) {
          return;
        }
        answer = await response.json();
      } catch (err) {
        return; // offline for a moment: the next round asks again
      }
      var count = Number(answer.count) || 0;
      if (count <= 0) {
        return;
      }
      var shown = answer.capped ? count + "+" : String(count);
      var template = count === 1 && !answer.capped ? box.dataset.msgOne : box.dataset.msgMany;
      var text = template.replace("{n}", shown);
      if (box.hidden || button.textContent !== text) {
        button.textContent = text;
        box.hidden = false;
        announce(text);
      }
    }

    function schedule() {
      window.clearInterval(timer);
      timer = window.setInterval(check, POLL_MS);
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        check();
        schedule();
      } else {
        window.clearInterval(timer);
      }
    });

    button.addEventListener("click", async function () {
      var href = box.dataset.newerPage;
      var doc;
      try {
        var response = await fetch(href, { credentials: "same-origin" });
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        doc = new DOMParser().parseFromString(await response.text(), "text/html");
      } catch (err) {
        window.location.assign(href);
        return;
      }
      var feed = document.querySelector("section.feed");
      var freshFeed = doc.querySelector("section.feed");
      var freshBox = doc.querySelector("[data-newer]");
      if (!feed || !freshFeed || !freshBox) {
        window.location.assign(href);
        return;
      }
      feed.replaceWith(document.importNode(freshFeed, true));
      // The new top's cursor: later polls count from there.
      box.dataset.newerUrl = freshBox.dataset.newerUrl;
      box.hidden = true;
      var older = document.querySelector("[data-older]");
      var freshOlder = doc.querySelector("[data-older]");
      if (older && freshOlder) {
        older.replaceWith(document.importNode(freshOlder, true));
      }
      var top = document.querySelector("section.feed");
      top.setAttribute("tabindex", "-1");
      top.focus();
      top.scrollIntoView({ block: "start" });
    });

    schedule();
  }

  function start() {
    rememberZone();
    document.querySelectorAll("textarea[data-max-chars]").forEach(updateCounter);
    document.querySelectorAll("[data-newer]").forEach(setupNewer);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
