(function () {
  "use strict";
  function value(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var sort = cell.getAttribute("data-sort");
    return sort !== null ? sort : cell.textContent.trim();
  }
  function compare(a, b, numeric) {
    if (numeric) {
      var x = parseFloat(a), y = parseFloat(b);
      if (isNaN(x) && isNaN(y)) { return 0; }
      if (isNaN(x)) { return 1; }
      if (isNaN(y)) { return -1; }
      return x - y;
    }
    return a.localeCompare(b, undefined, {numeric: true, sensitivity: "base"});
  }
  function sortBy(table, index, header) {
    var body = table.tBodies[0];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var numeric = header.getAttribute("data-type") === "number";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.setAttribute("aria-sort", "none"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var result = compare(value(r1, index), value(r2, index), numeric);
      return ascending ? result : -result;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      header.setAttribute("tabindex", "0");
      header.setAttribute("aria-sort", "none");
      header.addEventListener("click", function () { sortBy(table, index, header); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(table, index, header); }
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("pre.json"), function (pre) {
    try {
      pre.textContent = JSON.stringify(JSON.parse(pre.textContent), null, 2);
    } catch (error) {
      pre.setAttribute("data-error", String(error));   // the compact JSON stays readable as it is
    }
  });
  var search = document.getElementById("filter");
  var status = document.getElementById("status-filter");
  var table = document.getElementById("devices");
  var shown = document.getElementById("shown");
  function applyFilter() {
    var words = search ? search.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
    var wanted = status ? status.value : "";
    var count = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var text = (row.getAttribute("data-search") || "").toLowerCase();
      var ok = (!wanted || row.getAttribute("data-status") === wanted ||
                ((wanted === "alerting" || wanted === "changed" || wanted === "carried") && row.getAttribute("data-" + wanted) === "yes")) &&
               words.every(function (word) { return text.indexOf(word) !== -1; });
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    if (shown) { shown.textContent = String(count); }
  }
  if (table && (search || status)) {
    if (search) { search.addEventListener("input", applyFilter); }
    if (status) { status.addEventListener("change", applyFilter); }
    applyFilter();
  }
}());
