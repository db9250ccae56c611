// The door page (templates/forums/door.html): filter the roster as you type. Without this script the search box
// is a plain GET form that asks the server; with it, the rows of the page narrow at each key press, and Search
// still asks the server for the whole roster.
(function () {
  "use strict";

  function normal(text) {
    return (text || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/\s+/g, " ").trim();
  }

  function setUp(input) {
    var list = document.getElementById(input.getAttribute("data-filter"));
    if (!list) {
      return;
    }
    var rows = Array.prototype.slice.call(list.querySelectorAll("li[data-name]"));
    var none = document.getElementById("door-none");

    function apply() {
      var wanted = normal(input.value);
      var shown = 0;
      rows.forEach(function (row) {
        var match = !wanted || normal(row.getAttribute("data-name")).indexOf(wanted) !== -1;
        row.hidden = !match;
        if (match) {
          shown += 1;
        }
      });
      if (none) {
        none.hidden = shown !== 0;
      }
    }

    input.addEventListener("input", apply);
    apply();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), setUp);
  });
})();
