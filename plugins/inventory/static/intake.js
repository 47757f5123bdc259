/* The intake screen for keyboard-wedge scanners (no inline script: the app's CSP).

   A scanner types the code and presses Enter. Each Enter takes the field's value, clears the
   field at once (the next scan can start) and queues a check: one GET to the intake/check
   endpoint, in scan order, so that duplicates inside the batch are judged in the order they
   were scanned. A model with several identifiers (serial then MAC...) takes that many scans
   per item. Flagged scans stay in the list, marked, and are never sent; "Receive" posts the
   good items as JSON (the server checks everything again, all or nothing). */
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) { return; }
  function json(name, fallback) {
    try { return JSON.parse(form.dataset[name]); } catch (e) { return fallback; }
  }
  var config = json("config", {});
  var initial = json("batch", []);
  var serverErrors = json("errors", {});
  var model = document.getElementById("model_id");
  var scan = document.getElementById("scan");
  var prompt = document.getElementById("scan-prompt");
  var summary = document.getElementById("batch-summary");
  var tbody = document.querySelector("#batch tbody");
  var batchInput = document.getElementById("batch-input");
  var receive = document.getElementById("receive");
  var rows = [];       // {values: {key: normalised}, raw: [..], state: ok|flagged|partial, message}
  var current = null;  // the item still waiting for more scans
  var pending = 0;
  var queue = Promise.resolve();

  function modelConfig() { return config[model.value] || null; }
  function scanFields() { var c = modelConfig(); return c ? c.fields : []; }

  function keyCount(row) { return Object.keys(row.values).length; }

  function inBatch(key, value) {
    return rows.some(function (r) { return r.state !== "flagged" && r.values[key] === value; });
  }

  function text(tag, content, cls) {
    var el = document.createElement(tag);
    el.textContent = content;
    if (cls) { el.className = cls; }
    return el;
  }

  function render() {
    var c = modelConfig();
    var bulk = !!(c && c.bulk);
    document.getElementById("scan-area").hidden = bulk;
    document.getElementById("bulk-area").hidden = !bulk;
    model.disabled = rows.length > 0;  // a batch belongs to one model
    tbody.textContent = "";
    var ok = 0, flagged = 0;
    rows.forEach(function (row, n) {  // newest first: the last scan is always in view
      var tr = document.createElement("tr");
      tr.className = "scan-" + row.state;
      tr.appendChild(text("td", String(n + 1)));
      tr.appendChild(text("td", row.raw.join(" · "), "scan-value"));
      var status = row.state === "ok" ? "ready" : row.state === "partial"
        ? "waiting for " + row.message : "flagged: " + row.message;
      tr.appendChild(text("td", status, "scan-status"));
      var td = document.createElement("td");
      var remove = text("button", "Remove", "button button-quiet");
      remove.type = "button";
      remove.setAttribute("aria-label", "Remove scan " + (n + 1));
      remove.addEventListener("click", function () {
        rows.splice(n, 1);
        if (row === current) { current = null; }
        render();
        scan.focus();
      });
      td.appendChild(remove);
      tr.appendChild(td);
      tbody.insertBefore(tr, tbody.firstChild);
      if (row.state === "ok") { ok += 1; } else if (row.state === "flagged") { flagged += 1; }
    });
    summary.textContent = rows.length || pending
      ? ok + " ready, " + flagged + " flagged" + (pending ? ", " + pending + " checking" : "")
      : "No scans yet.";
    batchInput.value = JSON.stringify(rows.filter(function (r) { return r.state === "ok"; })
      .map(function (r) { return r.values; }));
    receive.disabled = !bulk && (ok === 0 || pending > 0);
    var fields = scanFields();
    if (!c) { prompt.textContent = "Choose a model."; }
    else if (bulk) { prompt.textContent = "A bulk model: enter the quantity received."; }
    else if (!fields.length) { prompt.textContent = "This model has no identifier to scan."; }
    else {
      var next = fields[current ? keyCount(current) : 0];
      prompt.textContent = "Next: " + next.label + (fields.length > 1
        ? " (" + fields.map(function (f) { return f.label; }).join(", then ") + " per item)" : "");
    }
  }

  function check(field, value) {
    var url = new URL(form.dataset.checkUrl, window.location.href);
    url.searchParams.set("model_id", model.value);
    url.searchParams.set("field", field.key);
    url.searchParams.set("value", value);
    return fetch(url.toString(), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .catch(function () { return {ok: false, message: "could not be checked (network); scan it again"}; });
  }

  function handle(raw) {
    var fields = scanFields();
    if (!fields.length) {
      rows.push({values: {}, raw: [raw], state: "flagged", message: "choose a model with an identifier first"});
      render();
      return;
    }
    pending += 1;
    render();
    queue = queue.then(function () {
      var item = current;
      var field = fields[item ? keyCount(item) : 0];
      return check(field, raw).then(function (result) {
        pending -= 1;
        if (result.ok && inBatch(field.key, result.normalised)) {
          result = {ok: false, message: result.normalised + " is already in this batch (a double scan?)"};
        }
        if (!result.ok) {
          rows.push({values: {}, raw: [raw], state: "flagged", message: field.label + ": " + result.message});
        } else {
          if (!item) {
            item = {values: {}, raw: [], state: "partial", message: ""};
            rows.push(item);
          }
          item.values[field.key] = result.normalised;
          item.raw.push(result.normalised);
          if (keyCount(item) === fields.length) { item.state = "ok"; current = null; }
          else { item.message = fields[keyCount(item)].label; current = item; }
        }
        render();
      });
    });
  }

  scan.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") { return; }
    event.preventDefault();  // Enter ends a scan; it never submits the form
    var raw = scan.value.trim();
    scan.value = "";
    if (raw) { handle(raw); }
  });

  model.addEventListener("change", function () { render(); scan.focus(); });

  document.getElementById("clear-batch").addEventListener("click", function () {
    rows = []; current = null; render(); scan.focus();
  });

  form.addEventListener("submit", function (event) {
    var c = modelConfig();
    if (pending > 0 || (!c || !c.bulk) && !rows.some(function (r) { return r.state === "ok"; })) {
      event.preventDefault();
      return;
    }
    model.disabled = false;  // a disabled select is not submitted
    if (current) { current.state = "flagged"; current.message = "incomplete"; }
  });

  // after a refused receive, the batch comes back with the server's flags
  initial.forEach(function (values, n) {
    var messages = [];
    Object.keys(serverErrors).forEach(function (key) {
      if (key.indexOf("items." + n + ".") === 0) { messages = messages.concat(serverErrors[key]); }
    });
    var raw = Object.keys(values).map(function (k) { return values[k]; });
    rows.push(messages.length
      ? {values: {}, raw: raw, state: "flagged", message: messages.join(" ")}
      : {values: values, raw: raw, state: "ok", message: ""});
  });
  render();
}());
