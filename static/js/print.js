// A page's "Print" buttons (data-print) open the browser's print dialog; the print
// stylesheet in portal.css leaves the page's content in black on white.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
