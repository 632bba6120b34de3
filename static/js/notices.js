// Asks for the header's notice badge every 20 seconds while the page is visible, and at
// once when it becomes visible again (the badge listens for "notices-poll" on the body).
(function () {
  var PERIOD = 20000;
  function poll() {
    if (document.visibilityState === "visible" && window.htmx) {
      window.htmx.trigger(document.body, "notices-poll");
    }
  }
  window.setInterval(poll, PERIOD);
  document.addEventListener("visibilitychange", poll);
})();
