// Pagefind's search box; pagefind-ui.js is written by Pagefind when the site is indexed.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  if (typeof PagefindUI === "undefined") return;
  new PagefindUI({ element: "#search", showSubResults: true, showImages: false });
});
