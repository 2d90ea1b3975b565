// Small enhancements for every page; each page works the same without them.
// No inline script anywhere (the Content-Security-Policy forbids it) and nothing from another origin.
"use strict";

(function () {
  // Times are sent in UTC; show them in the reader's own time zone, keeping UTC in the tooltip.
  function localTimes(root) {
    const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    root.querySelectorAll("time[data-local]").forEach(function (node) {
      const when = new Date(node.getAttribute("datetime"));
      if (isNaN(when.getTime())) { return; }
      node.title = node.textContent.trim();
      node.textContent = format.format(when);
      node.removeAttribute("data-local");
    });
  }

  // A live count of the characters left, and a clear message (not a silent cut) past the limit.
  function characterCounter(field) {
    const limit = parseInt(field.getAttribute("data-limit"), 10);
    const shown = document.getElementById(field.id + "-count");
    const spoken = document.getElementById(field.id + "-count-live");
    if (!limit || !shown) { return; }
    let timer = null;
    function message() {
      const left = limit - field.value.length;
      if (left >= 0) { return left.toLocaleString() + " of " + limit.toLocaleString() + " characters left"; }
      return "Too long by " + (-left).toLocaleString() + " character" + (left === -1 ? "" : "s") +
        ": comments can be at most " + limit.toLocaleString() + " characters";
    }
    function update() {
      const over = field.value.length > limit;
      shown.hidden = false;
      shown.textContent = message();
      shown.classList.toggle("over", over);
      if (over) { field.setAttribute("aria-invalid", "true"); }
      else if (!document.getElementById(field.id + "-error")) { field.removeAttribute("aria-invalid"); }
      // Screen readers hear the count once the reader pauses, not on every key.
      clearTimeout(timer);
      timer = setTimeout(function () { if (spoken) { spoken.textContent = message(); } }, 800);
    }
    field.addEventListener("input", update);
    update();
  }

  // After a refused post: the address is the article again (a reload must not post twice),
  // and focus is on the summary of what to correct.
  function errorSummary() {
    const form = document.querySelector("form[data-clean-url]");
    if (form && window.history.replaceState) {
      window.history.replaceState(null, "", form.getAttribute("data-clean-url"));
    }
    const summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); summary.scrollIntoView({ block: "start" }); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    document.querySelectorAll("textarea[data-limit]").forEach(characterCounter);
  });
  // After the browser has scrolled to (and focused) the address's #fragment.
  window.addEventListener("load", errorSummary);
  window.siteLocalTimes = localTimes;
})();
