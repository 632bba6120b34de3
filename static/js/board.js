// The supervisors' board: one map of every active ride's pickup, drop-off and driver,
// each labelled with the ride's reference. The map is built once; the live partial
// (#board-live, polled by htmx) carries the markers as JSON (#board-markers), and each
// refresh moves, adds or removes markers by their key ("reference:point") instead of
// rebuilding the map. A refresh waits while a person is writing an acknowledgement
// note, so what they typed is not swapped away.
(function () {
  "use strict";
  var state = null;
  var FIT = { padding: [30, 30], maxZoom: 15 };
  // With more markers than this, labels show only once the map is zoomed in (MIN_ZOOM).
  var LABELS_ALWAYS_UP_TO = 36;
  var MIN_ZOOM = 13;
  var STYLE = {
    pickup: { radius: 7, color: "#fff", weight: 2, fillColor: "#1b7f3b", fillOpacity: 1 },
    dropoff: { radius: 7, color: "#fff", weight: 2, fillColor: "#b3261e", fillOpacity: 1 },
    driver: { radius: 9, color: "#fff", weight: 3, fillColor: "#1a5fb4", fillOpacity: 1 }
  };
  var LABEL_SIDE = {
    pickup: { direction: "left", offset: [-8, 0] },
    dropoff: { direction: "right", offset: [8, 0] },
    driver: { direction: "top", offset: [0, -10] }
  };

  function readMarkers() {
    var script = document.getElementById(state.element.dataset.markers);
    try { return script ? JSON.parse(script.textContent) : []; } catch (error) { return []; }
  }

  function labelText(marker) {
    return marker.title ? marker.label + " · " + marker.title : marker.label;
  }

  function draw(marker) {
    var side = LABEL_SIDE[marker.point] || LABEL_SIDE.driver;
    var layer = L.circleMarker([marker.lat, marker.lon], STYLE[marker.point] || STYLE.driver);
    layer.bindTooltip(labelText(marker), {
      permanent: true, direction: side.direction, offset: side.offset,
      className: "map-label board-label board-label-" + marker.point
    });
    return layer.addTo(state.map);
  }

  function showLabels() {
    var many = Object.keys(state.layers).length > LABELS_ALWAYS_UP_TO;
    state.element.classList.toggle("board-labels-hidden", many && state.map.getZoom() < MIN_ZOOM);
  }

  function fit() {
    var bounds = L.latLngBounds([]);
    Object.keys(state.layers).forEach(function (key) { bounds.extend(state.layers[key].getLatLng()); });
    if (bounds.isValid()) {
      state.map.fitBounds(bounds, FIT);
      state.fitted = true;
    }
  }

  function update() {
    if (!state) { return; }
    var seen = {}, drivers = [];
    readMarkers().forEach(function (marker) {
      seen[marker.key] = true;
      var layer = state.layers[marker.key];
      if (layer) {
        layer.setLatLng([marker.lat, marker.lon]);
        layer.setTooltipContent(labelText(marker));
      } else {
        state.layers[marker.key] = draw(marker);
      }
      if (marker.point === "driver") {
        drivers.push(marker.ref + "@" + marker.lat.toFixed(6) + "," + marker.lon.toFixed(6));
      }
    });
    Object.keys(state.layers).forEach(function (key) {
      if (!seen[key]) { state.map.removeLayer(state.layers[key]); delete state.layers[key]; }
    });
    // What the map shows, for people's tools and the browser tests alike.
    state.element.dataset.markersShown = String(Object.keys(state.layers).length);
    state.element.dataset.driversShown = drivers.sort().join(" ");
    if (!state.fitted) { fit(); }
    showLabels();
  }

  function typingANote(live) {
    var notes = live.querySelectorAll("[data-ack-note]");
    for (var i = 0; i < notes.length; i += 1) {
      if (notes[i] === document.activeElement || notes[i].value.trim() !== "") { return true; }
    }
    return false;
  }

  function setUp() {
    var element = document.querySelector("[data-board-map]");
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
    map.setView([-6.2, 106.845], 11);
    state = { map: map, element: element, layers: {}, fitted: false };
    map.on("zoomend", showLabels);
    update();
    element.dataset.boardReady = "true";
  }

  document.addEventListener("DOMContentLoaded", setUp);
  document.addEventListener("htmx:afterSettle", update);
  document.addEventListener("htmx:beforeRequest", function (event) {
    var live = document.getElementById("board-live");
    if (!live || event.detail.elt !== live) { return; }
    if (document.visibilityState !== "visible" || typingANote(live)) { event.preventDefault(); }
  });
})();
