// The ride page's map: the pickup and drop-off (labelled), and the driver's position
// while a driver is on the way. The map is built once; when the live partial
// (#ride-live) is swapped in by htmx, the driver's marker moves to the position its
// hidden #ride-driver-position element carries (data-lat, data-lon), or goes away.
(function () {
  "use strict";
  var state = null;
  // Room above the pins for their labels (a pin is ~40 px, its label sits on top).
  var FIT = { paddingTopLeft: [40, 100], paddingBottomRight: [40, 30], maxZoom: 15 };

  function readPins(element) {
    var script = document.getElementById(element.dataset.pins);
    try { return script ? JSON.parse(script.textContent) : []; } catch (error) { return []; }
  }

  function driverPosition() {
    var holder = document.getElementById("ride-driver-position");
    if (!holder || !holder.dataset.lat || !holder.dataset.lon) { return null; }
    var lat = parseFloat(holder.dataset.lat), lon = parseFloat(holder.dataset.lon);
    return isFinite(lat) && isFinite(lon) ? [lat, lon] : null;
  }

  function showDriver() {
    if (!state) { return; }
    var at = driverPosition();
    var element = state.map.getContainer();
    if (!at) {
      if (state.driver) { state.map.removeLayer(state.driver); state.driver = null; }
      element.dataset.driverShown = "";
      return;
    }
    if (state.driver) {
      state.driver.setLatLng(at);
    } else {
      state.driver = L.circleMarker(at, {
        radius: 9, color: "#fff", weight: 3, fillColor: "#1a5fb4", fillOpacity: 1
      }).bindTooltip(element.dataset.driverLabel || "", {
        // Clear of the dot (radius 9 and a 3-pixel ring), so the label never hides it.
        permanent: true, direction: "right", offset: [12, 0],
        className: "map-label map-label-pin map-label-driver"
      }).addTo(state.map);
    }
    element.dataset.driverShown = at[0].toFixed(6) + "," + at[1].toFixed(6);
    if (!state.map.getBounds().pad(-0.1).contains(at)) {
      state.map.fitBounds(state.bounds.extend(at), FIT);
    }
  }

  function setUp() {
    var element = document.querySelector("[data-ride-map]");
    if (!element || typeof L === "undefined" || state) { return; }
    var map = L.map(element, { zoomControl: true });
    if (element.dataset.tileUrl) {
      L.tileLayer(element.dataset.tileUrl, {
        maxZoom: 19, attribution: element.dataset.tileAttribution || ""
      }).addTo(map);
    } else {
      element.classList.add("map-plain");
    }
    L.control.scale({ imperial: false }).addTo(map);
    var pins = readPins(element);
    var bounds = L.latLngBounds([]);
    pins.forEach(function (pin) {
      L.marker([pin.lat, pin.lon], { keyboard: false, title: pin.name })
        .bindTooltip(MapLabels.text(pin.label, pin.name), {
          permanent: true, direction: "top", offset: [-15, -28], className: "map-label map-label-pin"
        }).addTo(map);
      bounds.extend([pin.lat, pin.lon]);
    });
    if (bounds.isValid()) {
      map.fitBounds(bounds, FIT);
    } else {
      map.setView([-6.2, 106.845], 11);
    }
    state = { map: map, driver: null, bounds: bounds };
    showDriver();
  }

  document.addEventListener("DOMContentLoaded", setUp);
  // htmx:load fires on the swapped-in partial itself (an outerHTML swap replaces the
  // element the request came from, so events on the old one never reach the document).
  document.addEventListener("htmx:load", showDriver);
  document.addEventListener("htmx:afterSettle", showDriver);
})();
