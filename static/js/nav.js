// Phone navigation: the menu button opens and closes the list of links. Loaded right after the nav,
// so the list is folded before the page first paints. app.css shows the button only on narrow screens.
(function () {
  var button = document.querySelector(".nav-toggle");
  var nav = document.getElementById("main-nav");
  if (!button || !nav) return;
  document.documentElement.classList.add("nav-js");
  button.hidden = false;
  function setOpen(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("is-open", open);
  }
  button.addEventListener("click", function () { setOpen(button.getAttribute("aria-expanded") !== "true"); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      button.focus();
    }
  });
})();
