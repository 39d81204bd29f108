// Filters the timeline by class, actor and period. Without JavaScript the form stays
// hidden and every event is shown, so the page reads the same.
"use strict";
(function () {
  const form = document.getElementById("timeline-filter");
  if (!form) return;
  const marks = Array.from(document.querySelectorAll("[data-mark]"));
  const items = document.querySelectorAll("li[data-mark]");
  const count = document.getElementById("timeline-count");
  function apply() {
    const klass = form.elements["class"].value;
    const actor = form.elements["actor"].value;
    const from = parseInt(form.elements["from"].value, 10) || -Infinity;
    const to = parseInt(form.elements["to"].value, 10) || Infinity;
    for (const mark of marks) {
      const d = mark.dataset;
      const shown = (!klass || d.class === klass) &&
        (!actor || d.actors.split(" ").includes(actor)) &&
        parseInt(d.end, 10) >= from && parseInt(d.year, 10) <= to;
      mark.classList.toggle("is-off", !shown);
    }
    const visible = Array.from(items).filter((li) => !li.classList.contains("is-off")).length;
    count.textContent = visible + " of " + items.length + " events shown.";
  }
  form.hidden = false;
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("reset", () => window.setTimeout(apply, 0));
})();
