// The console's only script, two small parts.
//
// The matrix filter. The field box filters rows as you type; in the console the role and
// purpose choices reload the page (the server filters), in the standalone file (the form
// has data-client) everything is filtered here.
(function () {
  "use strict";
  var form = document.querySelector("form.grid-filter");
  var table = document.querySelector("table.grid");
  if (!form || !table) {
    return;
  }
  var client = form.hasAttribute("data-client");
  var value = function (name) { return form.elements.namedItem(name); };
  var heads = Array.prototype.slice.call(table.querySelectorAll("thead tr.purposes th"));

  function columnsShown() {
    var role = value("role").value;
    var purpose = value("purpose").value;
    return heads.map(function (th) {
      return !client || ((!role || th.dataset.role === role) && (!purpose || th.dataset.purpose === purpose));
    });
  }

  function granted(row, shown) {
    for (var i = 0; i < shown.length; i += 1) {
      var cell = row.cells[i + 1];
      if (shown[i] && cell && (!cell.classList.contains("deny") || cell.classList.contains("w"))) {
        return true;
      }
    }
    return false;
  }

  function apply() {
    var shown = columnsShown();
    var text = value("field").value.trim().toLowerCase();
    var onlyGranted = client && value("granted").checked;
    heads.forEach(function (th, i) { th.hidden = !shown[i]; });
    table.querySelectorAll("thead tr.roles th.role").forEach(function (th) {
      var count = heads.filter(function (h, i) { return shown[i] && h.dataset.role === th.dataset.role; }).length;
      th.hidden = count === 0;
      th.colSpan = Math.max(count, 1);
    });
    table.querySelectorAll("tbody").forEach(function (body) {
      var any = false;
      Array.prototype.forEach.call(body.rows, function (row) {
        for (var i = 0; i < shown.length; i += 1) {
          if (row.cells[i + 1]) { row.cells[i + 1].hidden = !shown[i]; }
        }
        if (!row.dataset.c) {
          return;
        }
        var match = row.dataset.c.toLowerCase().indexOf(text) !== -1 && (!onlyGranted || granted(row, shown));
        row.hidden = !match;
        any = any || match;
      });
      body.hidden = !any;
    });
    document.querySelectorAll(".rights .right").forEach(function (item) {
      var role = value("role").value;
      var purpose = value("purpose").value;
      item.hidden = client && ((role && item.dataset.role !== role) || (purpose && item.dataset.purpose !== purpose));
    });
  }

  value("field").addEventListener("input", apply);
  form.addEventListener("change", function (event) {
    if (client) {
      apply();
    } else if (event.target !== value("field")) {
      form.submit();
    }
  });
  form.addEventListener("submit", function (event) {
    if (client) {
      event.preventDefault();
      apply();
    }
  });
}());

// The access log: a request's objects are fetched when it is opened (one more search, by
// its ID, recorded like any other); without the script the link shows the request alone.
(function () {
  "use strict";
  document.querySelectorAll("details.entry").forEach(function (entry) {
    entry.addEventListener("toggle", function () {
      var box = entry.querySelector("[data-src]");
      if (!entry.open || !box || box.dataset.loaded) {
        return;
      }
      box.dataset.loaded = "1";
      fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (response.redirected) {
            window.location.assign(response.url);  // the session ended: the login page
            return "";
          }
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.text();
        })
        .then(function (html) {
          box.innerHTML = html;  // rendered by the service, escaped there
        })
        .catch(function () {
          box.dataset.loaded = "";
        });
    });
  });
}());
