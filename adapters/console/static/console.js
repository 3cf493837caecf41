// opsbot console: progressive enhancement only; every page works without it.
(function () {
  "use strict";
  // A select marked data-autosubmit submits its form on change (the unit filter).
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t && t.hasAttribute && t.hasAttribute("data-autosubmit") && t.form) {
      t.form.submit();
    }
  });
  // An element with data-live="URL" and data-every="ms" is replaced by the
  // HTML fragment URL answers, every ms milliseconds (the overview).
  function live(el) {
    var url = el.getAttribute("data-live");
    var every = parseInt(el.getAttribute("data-every"), 10) || 15000;
    var status = document.getElementById("live-status");
    var etag = ""; // the last fragment's tag: unchanged, the server answers 304 and nothing is redrawn
    function tick() {
      var headers = { "Accept": "text/html" };
      if (etag) { headers["If-None-Match"] = etag; }
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: headers })
        .then(function (r) {
          if (r.status === 401) { location.reload(); throw new Error("signed out"); }
          if (r.status === 304) { return null; }
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          etag = r.headers.get("ETag") || "";
          return r.text();
        })
        .then(function (html) {
          if (html !== null) { el.innerHTML = html; }
          el.setAttribute("data-refreshed", String(Date.now()));
          if (status) { status.classList.remove("err"); status.textContent = el.querySelector("[data-updated]") ? el.querySelector("[data-updated]").getAttribute("data-updated") : ""; }
        })
        .catch(function () {
          if (status) { status.classList.add("err"); status.textContent = status.getAttribute("data-failed") || ""; }
        })
        .finally(function () { setTimeout(tick, every); });
    }
    setTimeout(tick, every);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var els = document.querySelectorAll("[data-live]");
    for (var i = 0; i < els.length; i++) { live(els[i]); }
  });
})();
