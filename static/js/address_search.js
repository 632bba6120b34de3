// The booking form's address search: a combobox per point. htmx posts what is typed
// (rides/views/address_search.py) and swaps in a listbox of suggestions; this file makes
// them usable with the arrow keys, Enter and Escape, or a tap, and picking one fills the
// address, latitude and longitude, which moves the pin (booking.js follows the inputs).
(function () {
  "use strict";

  function parts(box) {
    return {
      input: box.querySelector("input[role=combobox]"),
      list: box.querySelector("[role=listbox]"),
      status: box.querySelector("[role=status]")
    };
  }

  function options(box) {
    var list = parts(box).list;
    return list ? Array.prototype.slice.call(list.querySelectorAll("[role=option]")) : [];
  }

  function setOpen(box, open) {
    var p = parts(box);
    if (p.list) { p.list.hidden = !open; }
    p.input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) { p.input.removeAttribute("aria-activedescendant"); }
  }

  function activate(box, index) {
    var all = options(box);
    if (!all.length) { return; }
    index = (index + all.length) % all.length;
    all.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
      option.classList.toggle("active", i === index);
    });
    parts(box).input.setAttribute("aria-activedescendant", all[index].id);
    all[index].scrollIntoView({ block: "nearest" });
  }

  function activeIndex(box) {
    return options(box).findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
  }

  function setValue(id, value) {
    var input = document.getElementById(id);
    if (!input) { return null; }
    input.value = value;
    return input;
  }

  function pick(box, option) {
    var p = parts(box);
    var address = document.getElementById(box.dataset.addressInput);
    if (address) {
      var limit = parseInt(address.getAttribute("maxlength") || "255", 10);
      address.value = (option.dataset.fill || "").slice(0, limit);
    }
    setValue(box.dataset.lonInput, option.dataset.longitude);
    var latitude = setValue(box.dataset.latInput, option.dataset.latitude);
    if (latitude) { latitude.dispatchEvent(new Event("change", { bubbles: true })); }
    p.input.value = option.querySelector("strong") ? option.querySelector("strong").textContent : p.input.value;
    setOpen(box, false);
    if (p.status) { p.status.textContent = box.dataset.pickedMessage || ""; }
  }

  function setUp(box) {
    if (box.dataset.searchReady) { return; }
    box.dataset.searchReady = "1";
    var input = parts(box).input;
    input.addEventListener("keydown", function (event) {
      var open = input.getAttribute("aria-expanded") === "true";
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!options(box).length) { return; }
        event.preventDefault();
        setOpen(box, true);
        var now = activeIndex(box);
        activate(box, event.key === "ArrowDown" ? now + 1 : (now < 0 ? -1 : now - 1));
      } else if (event.key === "Enter") {
        // Enter picks a suggestion; it never submits the booking form from here.
        event.preventDefault();
        var index = activeIndex(box);
        if (open && index >= 0) { pick(box, options(box)[index]); }
        else if (open && options(box).length === 1) { pick(box, options(box)[0]); }
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        setOpen(box, false);
      }
    });
    box.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option && box.contains(option)) { pick(box, option); }
    });
    box.addEventListener("htmx:afterSwap", function () {
      setOpen(box, options(box).length > 0);
    });
  }

  function setUpAll() {
    document.querySelectorAll("[data-address-search]").forEach(setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();
