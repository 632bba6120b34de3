// A Leaflet map that fills a latitude and a longitude input when tapped, and follows
// them when typed. Markup: <div data-pin-map data-lat-input="id" data-lon-input="id"
// data-tile-url="" data-tile-attribution="">. Without tiles (the default) the map is a
// plain grid: the pin still works, and the inputs can be typed.
(function () {
  "use strict";
  var JAKARTA = [-6.2, 106.845];

  function number(input) {
    var value = parseFloat((input.value || "").replace(",", "."));
    return isFinite(value) ? value : null;
  }

  function setUp(element) {
    if (element.dataset.pinReady || typeof L === "undefined") { return; }
    element.dataset.pinReady = "1";
    var latInput = document.getElementById(element.dataset.latInput);
    var lonInput = document.getElementById(element.dataset.lonInput);
    if (!latInput || !lonInput) { return; }
    var map = L.map(element, { zoomControl: true }).setView(JAKARTA, 11);
    if (element.dataset.tileUrl) {
      L.tileLayer(element.dataset.tileUrl, {
        maxZoom: 19, attribution: element.dataset.tileAttribution || ""
      }).addTo(map);
    } else {
      element.classList.add("pin-map-plain");
    }
    var marker = null;
    function place(lat, lon, pan) {
      if (marker) { marker.setLatLng([lat, lon]); } else { marker = L.marker([lat, lon]).addTo(map); }
      if (pan) { map.setView([lat, lon], Math.max(map.getZoom(), 15)); }
    }
    var lat = number(latInput), lon = number(lonInput);
    if (lat !== null && lon !== null) { place(lat, lon, true); }
    map.on("click", function (event) {
      latInput.value = event.latlng.lat.toFixed(6);
      lonInput.value = event.latlng.lng.toFixed(6);
      place(event.latlng.lat, event.latlng.lng, false);
    });
    function follow() {
      var a = number(latInput), b = number(lonInput);
      if (a !== null && b !== null) { place(a, b, true); }
    }
    // A map set up inside a closed <details> has no size until it opens.
    var details = element.closest("details");
    if (details) {
      details.addEventListener("toggle", function () { if (details.open) { map.invalidateSize(); } });
    }
    latInput.addEventListener("change", follow);
    lonInput.addEventListener("change", follow);
  }

  function setUpAll(root) {
    (root || document).querySelectorAll("[data-pin-map]").forEach(setUp);
  }
  document.addEventListener("DOMContentLoaded", function () { setUpAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { setUpAll(event.target); });
})();
