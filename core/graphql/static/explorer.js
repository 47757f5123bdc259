/* Backhaul GraphQL explorer: a query editor, variables, a result pane and schema docs built
   from an introspection query. Plain DOM code, no framework, nothing loaded from elsewhere:
   the page runs on machines without internet access and under a strict
   Content-Security-Policy (no inline script, style or eval). Every string that comes from
   the server is written with textContent, never parsed as HTML.

   Requests go to the page's data-endpoint with the session cookie (same origin) and the
   CSRF token from <meta name="csrf-token"> as the X-CSRFToken header. */
(function () {
  "use strict";

  var root = document.querySelector("[data-graphql-explorer]");
  if (!root) return;

  var $ = function (id) { return document.getElementById(id); };
  var endpoint = root.getAttribute("data-endpoint");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var form = $("gx-form"), query = $("gx-query"), variables = $("gx-variables");
  var varsError = $("gx-variables-error"), operation = $("gx-operation");
  var runButton = $("gx-run"), status = $("gx-status"), output = $("gx-output");
  var filter = $("gx-filter"), typeList = $("gx-type-list"), typeDoc = $("gx-type-doc");
  var types = {}, schemaInfo = null, currentType = null;

  /* ------------------------------------------------------------------- small helpers */
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function post(body) {
    return fetch(endpoint, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": csrf},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.text().then(function (text) {
        var json = null;
        try { json = JSON.parse(text); } catch (ignored) { /* shown as text */ }
        return {status: response.status, json: json, text: text};
      });
    });
  }

  /* ------------------------------------------------------------------- editors */
  var escapePressed = false;

  function onEditorKey(event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      run();
      return;
    }
    if (event.target.tagName !== "TEXTAREA") return;
    if (event.key === "Escape") { escapePressed = true; return; }
    if (event.key === "Tab" && !event.shiftKey && !event.altKey && !escapePressed) {
      event.preventDefault();
      // execCommand keeps the browser's undo history; setRangeText is the fallback
      if (!document.execCommand || !document.execCommand("insertText", false, "  ")) {
        event.target.setRangeText("  ", event.target.selectionStart,
                                  event.target.selectionEnd, "end");
      }
    }
    escapePressed = false;
  }

  /* The variables as an object, or null when the box is empty; shows why it is invalid. */
  function readVariables() {
    var text = variables.value.trim(), problem = null, value = null;
    if (text) {
      try {
        value = JSON.parse(text);
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
          problem = 'Variables must be a JSON object, such as {"first": 10}.';
        }
      } catch (error) {
        problem = "Variables are not valid JSON: " + error.message +
                  ". Fix them (keys and strings need double quotes) or empty the box.";
      }
    }
    varsError.textContent = problem || "";
    varsError.hidden = !problem;
    $("gx-variables-field").classList.toggle("has-error", !!problem);
    if (problem) variables.setAttribute("aria-invalid", "true");
    else variables.removeAttribute("aria-invalid");
    return {ok: !problem, value: value};
  }

  /* ------------------------------------------------------------------- result pane */
  /* Pretty-printed JSON as DOM nodes; the top-level "errors" member is highlighted. */
  function renderJson(value, indent, parent, highlight) {
    var pad = "\n" + "  ".repeat(indent + 1), end = "\n" + "  ".repeat(indent);
    if (Array.isArray(value) || (value && typeof value === "object")) {
      var isArray = Array.isArray(value), keys = isArray ? value : Object.keys(value);
      if (!keys.length) { parent.appendChild(document.createTextNode(isArray ? "[]" : "{}")); return; }
      parent.appendChild(document.createTextNode(isArray ? "[" : "{"));
      keys.forEach(function (item, i) {
        var key = isArray ? null : item, child = isArray ? item : value[item];
        var target = parent;
        if (indent === 0 && highlight && key === "errors") {
          parent.appendChild(document.createTextNode("\n"));
          target = parent.appendChild(el("span", "gx-errors"));
          target.appendChild(document.createTextNode(pad.slice(1)));
        } else {
          target.appendChild(document.createTextNode(pad));
        }
        if (!isArray) {
          target.appendChild(el("span", "gx-key", JSON.stringify(key)));
          target.appendChild(document.createTextNode(": "));
        }
        renderJson(child, indent + 1, target, false);
        if (i < keys.length - 1) target.appendChild(document.createTextNode(","));
      });
      parent.appendChild(document.createTextNode(end + (isArray ? "]" : "}")));
      return;
    }
    var kind = value === null ? "null" : typeof value;
    parent.appendChild(el("span", "gx-" + kind, JSON.stringify(value)));
  }

  function showResult(outcome, millis) {
    output.textContent = "";
    var failed = outcome.status >= 400 || !outcome.json ||
                 Boolean(outcome.json.errors && outcome.json.errors.length);
    output.classList.toggle("gx-failed", failed);
    if (outcome.json) renderJson(outcome.json, 0, output, true);
    else output.textContent = outcome.text || "(empty response)";
    var note = "HTTP " + outcome.status + " · " + millis + " ms";
    if (outcome.status === 401) note += " · your session has ended: reload the page and sign in";
    else if (outcome.json && outcome.json.errors) {
      note += " · " + outcome.json.errors.length + " error" +
              (outcome.json.errors.length === 1 ? "" : "s");
    }
    status.textContent = note;
  }

  function run() {
    var vars = readVariables();
    if (!vars.ok) { variables.focus(); return; }
    var body = {query: query.value, variables: vars.value,
                operationName: operation.value.trim() || null};
    var started = Date.now();
    runButton.disabled = true;
    root.setAttribute("aria-busy", "true");
    status.textContent = "Running…";
    post(body).then(function (outcome) {
      showResult(outcome, Date.now() - started);
    }, function (error) {
      output.textContent = "";
      output.classList.add("gx-failed");
      status.textContent = "The request did not reach the server (" + error.message +
                           "). Check the connection and try again.";
    }).then(function () {
      runButton.disabled = false;
      root.removeAttribute("aria-busy");
    });
  }

  /* ------------------------------------------------------------------- schema docs */
  var TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name " +
                 "ofType { kind name ofType { kind name ofType { kind name } } } } } }";
  var INTROSPECTION = "query ExplorerSchema { __schema { queryType { name } " +
    "mutationType { name } types { kind name description " +
    "fields(includeDeprecated: true) { name description isDeprecated deprecationReason " +
    "args { name description defaultValue type { " + TYPE_REF + " } } " +
    "type { " + TYPE_REF + " } } " +
    "inputFields { name description defaultValue type { " + TYPE_REF + " } } " +
    "enumValues(includeDeprecated: true) { name description isDeprecated } " +
    "interfaces { name } possibleTypes { name } } } }";

  function typeLink(name) {
    var link = el("a", "gx-type-link", name);
    link.href = "#type/" + encodeURIComponent(name);
    return link;
  }

  /* A type reference such as [Account!]! with the named type as a link. */
  function typeRef(ref) {
    var span = el("span", "gx-type");
    if (ref.kind === "NON_NULL") {
      span.appendChild(typeRef(ref.ofType));
      span.appendChild(document.createTextNode("!"));
    } else if (ref.kind === "LIST") {
      span.appendChild(document.createTextNode("["));
      span.appendChild(typeRef(ref.ofType));
      span.appendChild(document.createTextNode("]"));
    } else {
      span.appendChild(typeLink(ref.name));
    }
    return span;
  }

  function describe(parent, text) {
    if (text) parent.appendChild(el("p", "gx-description", text));
  }

  /* One field, argument or input field: name(args): Type = default, then its description. */
  function member(item) {
    var li = el("li", "gx-member");
    li.id = "gx-member-" + item.name;
    var sig = li.appendChild(el("div", "gx-signature"));
    sig.appendChild(el("span", "gx-field-name", item.name));
    if (item.args && item.args.length) {
      sig.appendChild(document.createTextNode("("));
      item.args.forEach(function (arg, i) {
        if (i) sig.appendChild(document.createTextNode(", "));
        sig.appendChild(el("span", "gx-arg-name", arg.name));
        sig.appendChild(document.createTextNode(": "));
        sig.appendChild(typeRef(arg.type));
        if (arg.defaultValue !== null && arg.defaultValue !== undefined) {
          sig.appendChild(document.createTextNode(" = " + arg.defaultValue));
        }
      });
      sig.appendChild(document.createTextNode(")"));
    }
    if (item.type) {
      sig.appendChild(document.createTextNode(": "));
      sig.appendChild(typeRef(item.type));
    }
    if (item.defaultValue !== null && item.defaultValue !== undefined) {
      sig.appendChild(document.createTextNode(" = " + item.defaultValue));
    }
    if (item.isDeprecated) {
      sig.appendChild(el("span", "badge badge-muted", "deprecated"));
      describe(li, item.deprecationReason);
    }
    describe(li, item.description);
    var withArgDocs = (item.args || []).filter(function (a) { return a.description; });
    if (withArgDocs.length) {
      var dl = li.appendChild(el("dl", "gx-arg-docs"));
      withArgDocs.forEach(function (arg) {
        dl.appendChild(el("dt", null, arg.name));
        dl.appendChild(el("dd", null, arg.description));
      });
    }
    return li;
  }

  function section(parent, title, items, render) {
    if (!items || !items.length) return;
    parent.appendChild(el("h4", "gx-section", title));
    var list = parent.appendChild(el("ul", "gx-members"));
    items.forEach(function (item) { list.appendChild(render(item)); });
  }

  function showType(name, memberName) {
    var type = types[name];
    currentType = name;
    typeDoc.textContent = "";
    if (!type) {
      typeDoc.appendChild(el("p", "muted", "No type named " + name + " in this schema."));
      return;
    }
    var head = typeDoc.appendChild(el("h3", "gx-type-title", type.name + " "));
    head.appendChild(el("span", "badge badge-muted", type.kind.toLowerCase().replace("_", " ")));
    describe(typeDoc, type.description);
    section(typeDoc, "Implements", type.interfaces, function (t) {
      var li = el("li"); li.appendChild(typeLink(t.name)); return li;
    });
    section(typeDoc, "Fields", type.fields, member);
    section(typeDoc, "Input fields", type.inputFields, member);
    section(typeDoc, "Values", type.enumValues, member);
    section(typeDoc, type.kind === "UNION" ? "Members" : "Implemented by", type.possibleTypes,
            function (t) { var li = el("li"); li.appendChild(typeLink(t.name)); return li; });
    Array.prototype.forEach.call(typeList.querySelectorAll("a"), function (a) {
      if (a.getAttribute("data-type") === name) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    });
    var target = memberName && document.getElementById("gx-member-" + memberName);
    if (target) { target.classList.add("gx-target"); target.scrollIntoView({block: "nearest"}); }
    else typeDoc.scrollTop = 0;
  }

  /* The type list: root types first, then the rest by name; a filter also lists matching
     fields as Type.field. Introspection types (__Schema...) are left out. */
  function renderTypeList() {
    var needle = filter.value.trim().toLowerCase();
    var roots = [schemaInfo.queryType, schemaInfo.mutationType].filter(Boolean)
      .map(function (t) { return t.name; });
    var names = Object.keys(types).filter(function (n) { return n.indexOf("__") !== 0; })
      .sort(function (a, b) {
        var ra = roots.indexOf(a), rb = roots.indexOf(b);
        if (ra !== rb) return (ra < 0 ? 99 : ra) - (rb < 0 ? 99 : rb);
        return a.localeCompare(b);
      });
    typeList.textContent = "";
    var shown = 0;
    names.forEach(function (name) {
      var fields = (types[name].fields || []).concat(types[name].inputFields || []);
      var hits = needle ? fields.filter(function (f) {
        return f.name.toLowerCase().indexOf(needle) >= 0;
      }) : [];
      if (needle && name.toLowerCase().indexOf(needle) < 0 && !hits.length) return;
      var li = typeList.appendChild(el("li"));
      var link = li.appendChild(typeLink(name));
      link.setAttribute("data-type", name);
      if (name === currentType) link.setAttribute("aria-current", "true");
      if (roots.indexOf(name) >= 0) li.className = "gx-root";
      hits.slice(0, 20).forEach(function (f) {
        var sub = el("a", "gx-field-hit", name + "." + f.name);
        sub.href = "#type/" + encodeURIComponent(name) + "/" + encodeURIComponent(f.name);
        li.appendChild(sub);
      });
      shown += 1;
    });
    if (!shown) typeList.appendChild(el("li", "muted small", "Nothing matches “" + filter.value + "”."));
  }

  function route() {
    var match = /^#type\/([^/]+)(?:\/(.+))?$/.exec(location.hash);
    if (match && schemaInfo) showType(decodeURIComponent(match[1]), match[2] && decodeURIComponent(match[2]));
  }

  function loadSchema() {
    post({query: INTROSPECTION, operationName: "ExplorerSchema"}).then(function (outcome) {
      var data = outcome.json && outcome.json.data;
      if (!data || !data.__schema) {
        var why = outcome.json && outcome.json.errors ? outcome.json.errors[0].message :
                  "HTTP " + outcome.status;
        typeList.textContent = "";
        typeList.appendChild(el("li", "field-error", "Could not load the schema: " + why));
        return;
      }
      schemaInfo = data.__schema;
      schemaInfo.types.forEach(function (t) { types[t.name] = t; });
      renderTypeList();
      if (/^#type\//.test(location.hash)) route();
      else if (schemaInfo.queryType) showType(schemaInfo.queryType.name);
    }, function (error) {
      typeList.textContent = "";
      typeList.appendChild(el("li", "field-error", "Could not load the schema: " + error.message));
    });
  }

  /* ------------------------------------------------------------------- wiring */
  form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
  form.addEventListener("keydown", onEditorKey);
  // judged when leaving the box or running; while typing, only an error is re-checked
  variables.addEventListener("blur", readVariables);
  variables.addEventListener("input", function () { if (!varsError.hidden) readVariables(); });
  filter.addEventListener("input", function () { if (schemaInfo) renderTypeList(); });
  window.addEventListener("hashchange", route);
  loadSchema();
})();
