// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // After a failed submit, move focus to the error summary so screen readers announce it.
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) { summary.focus(); }

  // "Leave this site": go at once, and replace this page in the history so that Back does
  // not bring it back. Escape does the same. Without JavaScript it is a plain link.
  var exit = document.querySelector("[data-quick-exit]");
  if (exit) {
    var leave = function (event) {
      if (event) { event.preventDefault(); }
      document.documentElement.classList.add("leaving");
      window.location.replace(exit.href);
    };
    exit.addEventListener("click", leave);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !event.isComposing) { leave(event); }
    });
  }
});

// Coming Back to a page kept in the browser's memory: show it again.
window.addEventListener("pageshow", function (event) {
  if (event.persisted) { document.documentElement.classList.remove("leaving"); }
});
