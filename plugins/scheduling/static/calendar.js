/* The technician calendar: drag a job onto a slot (another time, day or technician) to
   book or move it. The drop submits the page's ordinary form to the job's book action
   (CSRF token, technician, start, the calendar to come back to); the server checks
   everything (clashes, working hours, skills) and says why when it refuses. Without
   JavaScript the job page's Book/Move form does the same. */
(function () {
  "use strict";
  var form = document.getElementById("cal-move-form");
  if (!form) { return; }
  var dragged = null;

  document.querySelectorAll(".cal-job[draggable=true]").forEach(function (chip) {
    chip.addEventListener("dragstart", function (event) {
      dragged = chip;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", chip.id);
      chip.classList.add("cal-dragging");
    });
    chip.addEventListener("dragend", function () {
      chip.classList.remove("cal-dragging");
      dragged = null;
    });
  });

  document.querySelectorAll(".cal-slot").forEach(function (slot) {
    slot.addEventListener("dragover", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      slot.classList.add("cal-drop");
    });
    slot.addEventListener("dragleave", function () { slot.classList.remove("cal-drop"); });
    slot.addEventListener("drop", function (event) {
      event.preventDefault();
      slot.classList.remove("cal-drop");
      if (!dragged) { return; }
      form.action = dragged.getAttribute("data-action");
      form.elements.technicianId.value = slot.getAttribute("data-technician");
      form.elements.startsAt.value = slot.getAttribute("data-start");
      dragged = null;
      form.submit();
    });
  });
})();
