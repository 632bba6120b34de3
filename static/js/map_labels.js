// Shared by the maps: a marker's label ("name · kind"), and labels that show only once
// the map is zoomed in far enough for them not to cover each other (below that, the
// map's element gets the class "map-labels-hidden" and a label shows on hover or tap).
var MapLabels = (function () {
  "use strict";
  var MIN_ZOOM = 12;

  function text(name, kind) {
    return kind ? name + " · " + kind : name;
  }

  function followZoom(map) {
    function apply() {
      map.getContainer().classList.toggle("map-labels-hidden", map.getZoom() < MIN_ZOOM);
    }
    map.on("zoomend", apply);
    apply();
  }

  return { text: text, followZoom: followZoom };
})();
