// Look-ups (ceasefire/lookup/fields.py): a text input where a large program's user types a group's, caseworker's,
// organization's or service's name. Without this script the server resolves the name when the form is sent (and
// offers the rows it may mean). With it, the input suggests names as the user types, from the page's own JSON
// endpoint (data-lookup), through a native <datalist>; a suggestion chosen also sends its id, so a name two rows
// share needs no second round.
(function () {
  "use strict";

  var WAIT_MS = 150;

  function setUp(input, n) {
    var list = document.createElement("datalist");
    list.id = input.id + "-suggestions";
    input.parentNode.insertBefore(list, input.nextSibling);
    input.setAttribute("list", list.id);
    var pick = document.createElement("input");
    pick.type = "hidden";
    pick.name = input.name + "-pick";
    input.parentNode.insertBefore(pick, list);
    var offered = [];
    var timer = null;
    var asked = "";

    function choose() {
      var same = offered.filter(function (row) { return row.text === input.value; });
      pick.value = same.length === 1 ? String(same[0].id) : "";
    }

    function fill(rows) {
      offered = rows;
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
      rows.forEach(function (row) {
        var option = document.createElement("option");
        option.value = row.text;
        list.appendChild(option);
      });
      choose();
    }

    function ask() {
      var text = input.value.trim();
      if (text === asked) {
        return;
      }
      asked = text;
      if (!text) {
        fill([]);
        return;
      }
      var url = input.getAttribute("data-lookup") + "?q=" + encodeURIComponent(text);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (rows) {
          if (asked === text) {
            fill(rows);
          }
        })
        .catch(function () { /* no suggestions: the server still resolves the name when the form is sent */ });
    }

    input.addEventListener("input", function () {
      choose();
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, WAIT_MS);
    });
    input.setAttribute("data-lookup-ready", String(n));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var inputs = document.querySelectorAll("input[type=text][data-lookup]");
    Array.prototype.forEach.call(inputs, setUp);
  });
})();
