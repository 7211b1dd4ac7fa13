/* johann.monitor report: table sorting, and the fleet table's filter and pages.
   One file for every page (assets/report.js), allowed by the pages' CSP (script-src 'self'); device
   strings only ever become text (textContent, setAttribute), never markup. */
(function () {
  "use strict";
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});

  function compare(a, b, numeric) {
    if (numeric) {
      var x = parseFloat(a), y = parseFloat(b);
      if (isNaN(x) && isNaN(y)) { return 0; }
      if (isNaN(x)) { return 1; }
      if (isNaN(y)) { return -1; }
      return x - y;
    }
    return collator.compare(a, b);
  }

  /* Small tables (a device's interfaces, sensors, ARP): sorted in the DOM. */
  function value(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var sort = cell.getAttribute("data-sort");
    return sort !== null ? sort : cell.textContent.trim();
  }
  function markSorted(table, header, ascending) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.setAttribute("aria-sort", "none"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  function sortRows(table, index, header) {
    var body = table.tBodies[0];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var numeric = header.getAttribute("data-type") === "number";
    markSorted(table, header, ascending);
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var result = compare(value(r1, index), value(r2, index), numeric);
      return ascending ? result : -result;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  function sortable(table, sort) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      header.setAttribute("tabindex", "0");
      header.setAttribute("aria-sort", "none");
      header.addEventListener("click", function () { sort(table, index, header); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(table, index, header); }
      });
    });
  }

  /* The fleet table: every row is compact data in the page (#fleet-rows); the server wrote the first
     page of rows as HTML (what shows without JavaScript); sorting and filtering work on the data and
     only one page of rows is ever in the DOM. */
  var F = {host: 0, page: 1, status: 2, label: 3, message: 4, hostname: 5, address: 6, model: 7, version: 8,
           serial: 9, uptime: 10, uptimeText: 11, cpu: 12, cpuSpan: 13, memory: 14, interfaces: 15, alerts: 16,
           alertLevel: 17, alertText: 18, changes: 19, changeCount: 20, changeText: 21, platform: 22, polled: 23,
           carried: 24, fullMessage: 25};
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function unknown() { return el("span", "muted", "\u2014"); }
  function cell(row, text, className, sort) {
    var td = el("td", className);
    if (text === null || text === undefined) { td.appendChild(unknown()); } else { td.textContent = String(text); }
    if (sort !== undefined) { td.setAttribute("data-sort", sort === null ? "" : String(sort)); }
    row.appendChild(td);
    return td;
  }
  function renderRow(r, changesColumn) {
    var tr = el("tr");
    var a = el("a", null, r[F.host]);
    a.setAttribute("href", "devices/" + (r[F.page] || r[F.host] + ".html"));
    el("td").appendChild(a);
    tr.appendChild(a.parentNode);
    var status = el("td", "status");
    status.setAttribute("data-sort", r[F.status]);
    status.appendChild(el("span", "badge " + r[F.status], r[F.label]));
    if (r[F.carried]) {
      var carried = el("span", "carried", "last read " + r[F.carried][0] + " ago");
      carried.setAttribute("title", "not read in this run: its last known record, read " + r[F.carried][1]);
      status.appendChild(document.createTextNode(" "));
      status.appendChild(carried);
    }
    if (r[F.message]) { status.appendChild(el("div", "cause", r[F.message])); }
    tr.appendChild(status);
    cell(tr, r[F.hostname]);
    cell(tr, r[F.address]);
    cell(tr, r[F.model]);
    cell(tr, r[F.version]);
    cell(tr, r[F.serial], "hide-narrow");
    cell(tr, r[F.uptimeText], "num", r[F.uptime]);
    var cpu = cell(tr, r[F.cpu], "num", r[F.cpu]);
    if (r[F.cpuSpan]) { cpu.setAttribute("title", "over " + r[F.cpuSpan]); }
    cell(tr, r[F.memory], "num", r[F.memory]);
    var counts = r[F.interfaces];
    if (counts[3]) { cell(tr, counts[0] + " / " + counts[1] + " / " + counts[2], "num", counts[1]); }
    else { cell(tr, null, "num", counts[1]); }
    var alerts = cell(tr, r[F.alerts] ? "" : "0", "num", r[F.alerts]);
    if (r[F.alerts]) {
      var badge = el("span", "badge " + r[F.alertLevel], r[F.alerts]);
      badge.setAttribute("title", r[F.alertText]);
      alerts.appendChild(badge);
    }
    if (changesColumn) {
      var changes = cell(tr, "", "changes", r[F.changeCount]);
      if (r[F.changes].length) { changes.setAttribute("title", r[F.changeText]); }
      r[F.changes].forEach(function (label, number) {
        if (number) { changes.appendChild(document.createTextNode(" ")); }
        changes.appendChild(el("span", "change", label));
      });
    }
    cell(tr, r[F.platform], "hide-narrow");
    cell(tr, r[F.polled], "hide-narrow nowrap");
    tr.setAttribute("data-status", r[F.status]);
    return tr;
  }
  var KEYS = {
    host: function (r) { return r[F.host]; }, status: function (r) { return r[F.status]; },
    hostname: function (r) { return r[F.hostname]; }, address: function (r) { return r[F.address]; },
    model: function (r) { return r[F.model]; }, version: function (r) { return r[F.version]; },
    serial: function (r) { return r[F.serial]; }, uptime: function (r) { return r[F.uptime]; },
    cpu: function (r) { return r[F.cpu]; }, memory: function (r) { return r[F.memory]; },
    interfaces: function (r) { return r[F.interfaces][1]; }, alerts: function (r) { return r[F.alerts]; },
    changes: function (r) { return r[F.changeCount]; }, platform: function (r) { return r[F.platform]; },
    polled: function (r) { return r[F.polled]; }
  };
  /* Row numbers in the column's order: unknowns last either way; equal values keep the host order. */
  function ordered(rows, key, numeric, ascending) {
    var get = KEYS[key];
    var known = [], missing = [];
    rows.forEach(function (r, number) {
      var v = get(r);
      if (v === null || v === undefined || v === "") { missing.push(number); } else { known.push([numeric ? Number(v) : String(v), number]); }
    });
    var sign = ascending ? 1 : -1;
    known.sort(numeric ? function (a, b) { return sign * (a[0] - b[0]) || a[1] - b[1]; }
                       : function (a, b) { return sign * collator.compare(a[0], b[0]) || a[1] - b[1]; });
    return known.map(function (pair) { return pair[1]; }).concat(missing);
  }
  /* What the text filter looks in (lower case): host, names, address, platform, model, version, serial, status, cause, changes. */
  function searched(r) {
    return [r[F.host], r[F.hostname], r[F.address], r[F.platform], r[F.model], r[F.version], r[F.serial], r[F.label],
            r[F.fullMessage] || r[F.message]].concat(r[F.changes])
      .filter(function (v) { return v !== null && v !== undefined; }).join(" ").toLowerCase();
  }
  function fleetTable(table, data) {
    var rows = JSON.parse(data.textContent);
    var changesColumn = table.getAttribute("data-changes") === "yes";
    var pageSize = parseInt(table.getAttribute("data-page-size"), 10) || 50;
    var body = table.tBodies[0];
    var search = document.getElementById("filter"), status = document.getElementById("status-filter");
    var shown = document.getElementById("shown"), pager = document.getElementById("pager");
    var order = rows.map(function (r, number) { return number; });
    var matching = order, page = 0, texts = null;
    var previous = el("button", null, "\u2039 Previous"), next = el("button", null, "Next \u203a");
    var where = el("span", "where");
    previous.type = next.type = "button";
    function draw(rowsToo) {
      var pages = Math.max(1, Math.ceil(matching.length / pageSize));
      page = Math.min(page, pages - 1);
      if (rowsToo !== false) {
        var fragment = document.createDocumentFragment();
        matching.slice(page * pageSize, (page + 1) * pageSize).forEach(function (number) {
          fragment.appendChild(renderRow(rows[number], changesColumn));
        });
        body.textContent = "";
        body.appendChild(fragment);
      }
      if (shown) { shown.textContent = String(matching.length); }
      where.textContent = matching.length ? "rows " + (page * pageSize + 1) + "\u2013" +
        Math.min(matching.length, (page + 1) * pageSize) + " of " + matching.length + " \u00b7 page " + (page + 1) + " of " + pages : "no rows";
      previous.disabled = page === 0;
      next.disabled = page >= pages - 1;
      pager.hidden = pages < 2;
    }
    function filter() {
      var words = search ? search.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
      var wanted = status ? status.value : "";
      if (words.length && !texts) { texts = rows.map(searched); }
      matching = order.filter(function (number) {
        var r = rows[number];
        var ok = !wanted || r[F.status] === wanted || (wanted === "alerting" && r[F.alerts] > 0) ||
                 (wanted === "carried" && !!r[F.carried]) || (wanted === "changed" && r[F.changes].length > 0);
        return ok && words.every(function (word) { return texts[number].indexOf(word) !== -1; });
      });
      page = 0;
      draw();
    }
    function sortBy(_table, _index, header) {
      var ascending = header.getAttribute("aria-sort") !== "ascending";
      markSorted(table, header, ascending);
      order = ordered(rows, header.getAttribute("data-key"), header.getAttribute("data-type") === "number", ascending);
      filter();
    }
    pager.textContent = "";
    [previous, where, next].forEach(function (node) { pager.appendChild(node); });
    previous.addEventListener("click", function () { page -= 1; draw(); });
    next.addEventListener("click", function () { page += 1; draw(); });
    sortable(table, sortBy);
    if (search) { search.addEventListener("input", filter); }
    if (status) { status.addEventListener("change", filter); }
    // the server wrote the first page: drawn again only for a filter the browser kept (back, reload)
    if ((search && search.value) || (status && status.value)) { filter(); } else { draw(false); }
    table.setAttribute("data-ready", "yes");
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (table.id !== "devices") { sortable(table, sortRows); }
  });
  var devices = document.getElementById("devices"), data = document.getElementById("fleet-rows");
  if (devices && data && document.getElementById("pager")) { fleetTable(devices, data); }
}());
