/* Backhaul staff UI: small progressive enhancements. Every page works without this file.
   - "/" focuses the global search box (unless you are typing somewhere);
   - the menu button opens/closes the sidebar on narrow screens (Escape closes it);
   - flash messages can be dismissed;
   - a form or button with data-confirm="..." asks before submitting;
   - an element with data-colour="#16a34a" gets that colour as its CSS var(--colour): the way
     to show a colour known only at run time (an account status), since the
     Content-Security-Policy forbids style="..." attributes (a script may still set them). */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  Array.prototype.forEach.call(document.querySelectorAll("[data-colour]"), function (el) {
    var colour = el.getAttribute("data-colour");
    if (/^#[0-9a-f]{3,8}$/i.test(colour)) el.style.setProperty("--colour", colour);
  });

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return el.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function setMenu(open) {
    var button = document.querySelector("[data-menu-toggle]");
    if (!button) return;
    document.body.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      var first = document.querySelector("#sidebar a");
      if (first) first.focus();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey &&
        !typing(document.activeElement)) {
      var search = document.querySelector("[data-global-search]");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    } else if (event.key === "Escape" && document.body.classList.contains("nav-open")) {
      setMenu(false);
      var button = document.querySelector("[data-menu-toggle]");
      if (button) button.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-menu-toggle]");
    if (toggle) {
      setMenu(!document.body.classList.contains("nav-open"));
      return;
    }
    var dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) {
      var flash = dismiss.closest(".flash");
      if (flash) flash.remove();
      return;
    }
    if (document.body.classList.contains("nav-open") && !event.target.closest("#sidebar")) {
      setMenu(false);
    }
    var confirmer = event.target.closest("button[data-confirm]");
    if (confirmer && !window.confirm(confirmer.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
