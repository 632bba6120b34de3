// The booking form: shows the part of each point that was chosen (place, saved address
// or typed address with a pin), the date field only for "later", and a Leaflet map per
// typed point. Without tiles (MAP_TILE_URL empty, the default) the map is a plain
// background with the service area, the places (labelled by map_labels.js once zoomed
// in), the labelled pin and a scale, so it works offline.
// Everything here is an enhancement: without JavaScript every field is simply shown.
(function () {
  "use strict";
  var JAKARTA = [-6.2, 106.845];
  var maps = {};

  function readJSON(id) {
    var element = document.getElementById(id);
    if (!element) { return null; }
    try { return JSON.parse(element.textContent); } catch (error) { return null; }
  }

  function number(input) {
    if (!input) { return null; }
    var value = parseFloat((input.value || "").replace(",", "."));
    return isFinite(value) ? value : null;
  }

  function checked(form, name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : "";
  }

  function setUpMap(element) {
    var prefix = element.dataset.bookingMap;
    if (maps[prefix] || typeof L === "undefined") { return maps[prefix]; }
    var settings = document.getElementById("booking-map-settings");
    var map = L.map(element, { zoomControl: true, attributionControl: true }).setView(JAKARTA, 10);
    var tileUrl = settings ? settings.dataset.tileUrl : "";
    if (tileUrl) {
      L.tileLayer(tileUrl, { maxZoom: 19, attribution: settings.dataset.tileAttribution || "" }).addTo(map);
    } else {
      element.classList.add("map-plain");
    }
    var area = readJSON("booking-service-area");
    if (area) {
      L.rectangle([[area.lat_min, area.lon_min], [area.lat_max, area.lon_max]], {
        color: "#1a5fb4", weight: 1, fill: false, dashArray: "4 4", interactive: false
      }).addTo(map);
    }
    L.control.scale({ imperial: false }).addTo(map);
    (readJSON("booking-map-places") || []).forEach(function (place) {
      L.circleMarker([place.lat, place.lon], {
        radius: 5, color: "#555", weight: 1, fillColor: "#888", fillOpacity: 0.8
      }).bindTooltip(MapLabels.text(place.name, place.kind), {
        permanent: true, direction: "right", className: "map-label"
      }).addTo(map);
    });
    MapLabels.followZoom(map);
    var state = { map: map, marker: null, element: element };
    function inputs() {
      return [document.getElementById(element.dataset.latInput),
              document.getElementById(element.dataset.lonInput)];
    }
    function place(lat, lon, pan) {
      if (state.marker) { state.marker.setLatLng([lat, lon]); }
      else {
        state.marker = L.marker([lat, lon], { draggable: true, keyboard: true }).addTo(map);
        if (element.dataset.pinLabel) {
          state.marker.bindTooltip(element.dataset.pinLabel, {
            permanent: true, direction: "top", offset: [-15, -28], className: "map-label map-label-pin"
          });
        }
        state.marker.on("dragend", function () {
          var at = state.marker.getLatLng();
          write(at.lat, at.lng);
        });
      }
      if (pan) { map.setView([lat, lon], Math.max(map.getZoom(), 14)); }
    }
    function write(lat, lon) {
      var pair = inputs();
      if (!pair[0] || !pair[1]) { return; }
      pair[0].value = lat.toFixed(6);
      pair[1].value = lon.toFixed(6);
    }
    state.follow = function () {
      var pair = inputs();
      var lat = number(pair[0]), lon = number(pair[1]);
      if (lat !== null && lon !== null) { place(lat, lon, true); }
    };
    map.on("click", function (event) {
      write(event.latlng.lat, event.latlng.lng);
      place(event.latlng.lat, event.latlng.lng, false);
    });
    state.follow();
    maps[prefix] = state;
    return state;
  }

  function update(form) {
    form.querySelectorAll("[data-point]").forEach(function (fieldset) {
      var prefix = fieldset.dataset.point;
      var source = checked(form, prefix + "_source") || "place";
      fieldset.querySelectorAll(".point-option").forEach(function (option) {
        option.hidden = option.dataset.option !== source;
      });
      if (source === "typed") {
        var element = fieldset.querySelector("[data-booking-map]");
        var state = element && setUpMap(element);
        if (state) { state.map.invalidateSize(); state.follow(); }
      }
    });
    var scheduled = form.querySelector("[data-scheduled]");
    if (scheduled) { scheduled.hidden = checked(form, "when") !== "later"; }
  }

  // The guardian offered as the escort: choosing them fills the escort's name and phone;
  // typing another name or phone switches the choice to "another escort".
  function setUpGuardianEscort(form) {
    var offer = form.querySelector("[data-guardian-escort]");
    var name = form.querySelector('input[name="escort_name"]');
    var phone = form.querySelector('input[name="escort_phone"]');
    if (!offer || !name || !phone) { return; }
    function choose(value) {
      var radio = offer.querySelector('input[name="escort_from"][value="' + value + '"]');
      if (radio) { radio.checked = true; }
    }
    offer.addEventListener("change", function (event) {
      if (event.target.name !== "escort_from") { return; }
      if (event.target.value === "guardian") {
        name.value = offer.dataset.name || "";
        phone.value = offer.dataset.phone || "";
      } else if (name.value === offer.dataset.name && phone.value === offer.dataset.phone) {
        name.value = "";
        phone.value = "";
        name.focus();
      }
    });
    [name, phone].forEach(function (input) {
      input.addEventListener("input", function () {
        var same = name.value === offer.dataset.name && phone.value === offer.dataset.phone;
        choose(same ? "guardian" : "typed");
      });
    });
  }

  function setUp() {
    var form = document.getElementById("booking-form");
    if (!form) { return; }
    setUpGuardianEscort(form);
    form.addEventListener("change", function (event) {
      update(form);
      var name = event.target.name || "";
      if (/_(latitude|longitude)$/.test(name)) {
        var state = maps[name.replace(/_(latitude|longitude)$/, "")];
        if (state) { state.follow(); }
      }
    });
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (button && button.hasAttribute("data-book-button")) {
        // One booking per click: disabled after the browser took the button's value.
        setTimeout(function () { button.disabled = true; button.setAttribute("aria-busy", "true"); }, 0);
      }
    });
    document.body.addEventListener("htmx:afterSettle", function () { update(form); });
    update(form);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
