/* Gapo's progressive enhancement: like, share and follow without a page reload.
 *
 * Forms marked `data-enhance` are sent with fetch() instead of navigating. They already
 * work without JavaScript (the server answers with a redirect back to the page), so this
 * script only changes how the answer is shown: the server's redirect target is fetched as
 * usual, and the enclosing `[data-fragment]` element is swapped for the element with the
 * same id in the new HTML. The pressed button keeps keyboard focus and the `#live` region
 * (aria-live="polite") announces the change. Anything unexpected falls back to a plain
 * form submission, so the result is never worse than without the script.
 *
 * No inline script and no inline handlers: the Content-Security-Policy forbids both.
 */
(function () {
  "use strict";

  var busy = new WeakSet();

  function announce(text) {
    var live = document.getElementById("live");
    if (!live) {
      return;
    }
    // Clearing first makes screen readers repeat an identical message.
    live.textContent = "";
    window.setTimeout(function () {
      live.textContent = text;
    }, 50);
  }

  function squash(text) {
    return (text || "").replace(/\s+/g, " ").trim();
  }

  function statusText(fragment, button) {
    var parts = [];
    if (button) {
      parts.push(squash(button.textContent));
    }
    fragment.querySelectorAll("[data-status]").forEach(function (el) {
      parts.push(squash(el.textContent));
    });
    return parts.filter(Boolean).join(". ");
  }

  function fallback(form) {
    // HTMLFormElement.submit() skips the submit event, so this cannot loop.
    HTMLFormElement.prototype.submit.call(form);
  }

  async function send(form, submitter) {
    var fragment = form.closest("[data-fragment]");
    if (!fragment || !fragment.id) {
      fallback(form);
      return;
    }
    var forms = Array.prototype.slice.call(fragment.querySelectorAll("form[data-enhance]"));
    var index = forms.indexOf(form);
    var body = new URLSearchParams(new FormData(form, submitter || undefined));
    var response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", Accept: "text/html" },
        redirect: "follow",
      });
    } catch (err) {
      fallback(form);
      return;
    }
    var sameOrigin = new URL(response.url, window.location.href).origin === window.location.origin;
    if (!response.ok || !sameOrigin) {
      fallback(form);
      return;
    }
    var html = await response.text();
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById(fragment.id);
    if (!fresh || !fresh.hasAttribute("data-fragment")) {
      // Not the page we expected (a login page after an expired session, say): show it.
      window.location.assign(response.url);
      return;
    }
    var adopted = document.importNode(fresh, true);
    fragment.replaceWith(adopted);
    var newForms = adopted.querySelectorAll("form[data-enhance]");
    var target = newForms[index] || newForms[0];
    var button = target ? target.querySelector("button[type=submit], button:not([type])") : null;
    if (button) {
      button.focus();
    }
    announce(statusText(adopted, button));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-enhance")) {
      return;
    }
    if (!window.fetch || !window.DOMParser || !window.URLSearchParams) {
      return;
    }
    event.preventDefault();
    if (busy.has(form)) {
      return; // a second click while the first request is on its way
    }
    busy.add(form);
    form.setAttribute("aria-busy", "true");
    send(form, event.submitter).finally(function () {
      busy.delete(form);
      form.removeAttribute("aria-busy");
    });
  });
})();
