// The supervisors' board: one map of every active ride's pickup, drop-off and driver,
// each labelled with the ride's reference. The map is built once; the live partial
// (#board-live, polled by htmx) carries the markers as JSON (#board-markers), and each
// refresh moves, adds or removes markers by their key ("reference:point") instead of
// rebuilding the map. A refresh waits while a person is writing an acknowledgement
// note (the field has the focus or holds text), so what they typed is not swapped away.
(function () {
  "use strict";
  var state = null;
  // Room above the points for their labels, which sit on top of them.
  var FIT = { paddingTopLeft: [30, 70], paddingBottomRight: [30, 20], maxZoom: 15 };
  // With more markers than this, labels show only once the map is zoomed in (MIN_ZOOM).
  var LABELS_ALWAYS_UP_TO = 36;
  var MIN_ZOOM = 13;
  var STYLE = {
    pickup: { radius: 7, color: "#fff", weight: 2, fillColor: "#1b7f3b", fillOpacity: 1 },
    dropoff: { radius: 7, color: "#fff", weight: 2, fillColor: "#b3261e", fillOpacity: 1 },
    driver: { radius: 9, color: "#fff", weight: 3, fillColor: "#1a5fb4", fillOpacity: 1 }
  };
  var ROUTE = { color: "#5d6b78", weight: 2, opacity: 0.7, dashArray: "4 6", interactive: false };

  function readMarkers() {
    var script = document.getElementById(state.element.dataset.markers);
    try { return script ? JSON.parse(script.textContent) : []; } catch (error) { return []; }
  }

  // The label's text: "reference · kind", and under it the place (a safe house only as
  // its meeting point), built as text nodes (nothing read is ever parsed as markup).
  function labelContent(marker) {
    var holder = document.createElement("span");
    holder.appendChild(document.createTextNode(marker.label));
    if (marker.title) {
      var place = document.createElement("small");
      place.className = "board-label-place";
      place.textContent = marker.title;
      holder.appendChild(document.createElement("br"));
      holder.appendChild(place);
    }
    return holder;
  }

  // One label stays on per ride (on the driver while there is one, else on the pickup),
  // so a phone's map stays readable; the others show when pointed at.
  function labelled(markers) {
    var withDriver = {};
    markers.forEach(function (m) { if (m.point === "driver") { withDriver[m.ref] = true; } });
    return function (m) { return m.point === (withDriver[m.ref] ? "driver" : "pickup"); };
  }

  function draw(marker, permanent) {
    var style = Object.assign({}, STYLE[marker.point] || STYLE.driver, {
      className: "board-marker board-marker-" + marker.point + " ride-" + marker.ref
    });
    var layer = L.circleMarker([marker.lat, marker.lon], style);
    layer.bindTooltip(labelContent(marker), {
      permanent: permanent, direction: "top", offset: [0, -8],
      className: "map-label board-label board-label-" + marker.point
    });
    return layer.addTo(state.map);
  }

  function routes(markers) {
    var ends = {};
    markers.forEach(function (m) {
      if (m.point !== "driver") { (ends[m.ref] = ends[m.ref] || {})[m.point] = [m.lat, m.lon]; }
    });
    var seen = {};
    Object.keys(ends).forEach(function (ref) {
      var end = ends[ref];
      if (!end.pickup || !end.dropoff) { return; }
      seen[ref] = true;
      if (state.routes[ref]) {
        state.routes[ref].setLatLngs([end.pickup, end.dropoff]);
      } else {
        state.routes[ref] = L.polyline([end.pickup, end.dropoff], ROUTE).addTo(state.map);
      }
    });
    Object.keys(state.routes).forEach(function (ref) {
      if (!seen[ref]) { state.map.removeLayer(state.routes[ref]); delete state.routes[ref]; }
    });
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
    var markers = readMarkers(), permanent = labelled(markers);
    routes(markers);
    markers.forEach(function (marker) {
      seen[marker.key] = true;
      var layer = state.layers[marker.key];
      // A label that changes between permanent and on hover (a driver found or gone)
      // means a new marker; otherwise the marker moves.
      if (layer && layer.getTooltip().options.permanent !== permanent(marker)) {
        state.map.removeLayer(layer);
        layer = null;
      }
      if (layer) {
        layer.setLatLng([marker.lat, marker.lon]);
        layer.setTooltipContent(labelContent(marker));
      } else {
        state.layers[marker.key] = draw(marker, permanent(marker));
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
    state = { map: map, element: element, layers: {}, routes: {}, fitted: false };
    map.on("zoomend", showLabels);
    update();
    element.dataset.boardReady = "true";
  }

  // A note sent back with its error keeps the focus, which holds the refreshes until the
  // person has written it (a refresh would bring a fresh form without the error).
  function focusRefusedNote() {
    var refused = document.querySelector("#board-live [data-ack-note][aria-invalid='true']");
    if (refused) { refused.focus(); }
  }

  document.addEventListener("DOMContentLoaded", setUp);
  document.addEventListener("htmx:afterSettle", function () { update(); focusRefusedNote(); });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var live = document.getElementById("board-live");
    if (!live || event.detail.elt !== live) { return; }
    if (document.visibilityState !== "visible" || typingANote(live)) { event.preventDefault(); }
  });
})();
