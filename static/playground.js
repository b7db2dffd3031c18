// Playground: a chat-like editor for the input messages, kept in sync with the raw JSON both
// ways and shown instead of it or not (the "Message rows / JSON" switch), and the input-kind
// switch. No inline script anywhere (CSP); the form works without it (the JSON alone).
(function () {
  "use strict";
  var form = document.getElementById("playground-form");
  if (!form) return;

  // The action buttons (API count, attribute, save) belong to the form through form="…" and
  // formaction, so they work without JavaScript. htmx remembers the last one clicked and would
  // send the form's own requests (typing, Enter) to its formaction: keep those on the count.
  form.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt !== form) return;
    event.detail.path = form.getAttribute("hx-post");
    delete event.detail.parameters.confirm;
  });
  var editor = document.getElementById("chat-editor");
  var source = editor && document.getElementById(editor.dataset.source);
  if (!editor || !source) return;
  var rows = editor.querySelector(".chat-rows");
  var note = editor.querySelector(".chat-note");
  var add = editor.querySelector(".chat-add");
  var ROLES = ["user", "assistant", "developer", "system"];
  var items = [];
  var writing = false;

  function showKind() {
    var checked = form.querySelector("input[name=input_kind]:checked");
    form.dataset.kind = checked ? checked.value : "items";
  }

  function isMessage(item) {
    return item !== null && typeof item === "object" && !Array.isArray(item) &&
      (item.type === "message" || (item.type === undefined && "role" in item));
  }

  // A message the editor shows as one text box: string content, or a single text part.
  function editable(item) {
    if (!isMessage(item)) return false;
    if (typeof item.content === "string") return true;
    var parts = item.content;
    return Array.isArray(parts) && parts.length === 1 && parts[0] !== null &&
      typeof parts[0] === "object" && typeof parts[0].text === "string" &&
      (parts[0].type === "input_text" || parts[0].type === "output_text");
  }

  function textOf(item) {
    return typeof item.content === "string" ? item.content : item.content[0].text;
  }

  function setText(item, text) {
    if (typeof item.content === "string") item.content = text;
    else item.content[0].text = text;
  }

  function summary(item) {
    if (item === null || typeof item !== "object" || Array.isArray(item)) return "not an object";
    if (isMessage(item)) {
      var parts = Array.isArray(item.content) ? item.content : [];
      var kinds = parts.map(function (p) { return p && p.type ? p.type : "part"; });
      return "message · " + (item.role || "?") + " · " + kinds.join(", ");
    }
    var name = item.name || item.call_id || item.id || "";
    return (item.type || "item") + (name ? " · " + name : "");
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function row(item, index) {
    var box = element("div", "chat-row");
    var number = element("span", "chat-index", String(index));
    box.appendChild(number);
    if (editable(item)) {
      var role = element("select", "chat-role");
      role.setAttribute("aria-label", "Role of input[" + index + "]");
      var roles = ROLES.indexOf(item.role) >= 0 || !item.role ? ROLES : ROLES.concat([item.role]);
      roles.forEach(function (name) {
        var option = element("option", "", name);
        option.value = name;
        role.appendChild(option);
      });
      role.value = item.role || "user";
      box.classList.add("role-" + role.value);
      role.addEventListener("change", function () {
        box.classList.remove("role-" + item.role);
        item.role = role.value;
        box.classList.add("role-" + item.role);
        write();
      });
      var text = element("textarea", "chat-text");
      text.dir = "auto";
      text.rows = 1;
      text.value = textOf(item);
      text.setAttribute("aria-label", "Text of input[" + index + "]");
      text.spellcheck = false;
      text.addEventListener("input", function () {
        setText(item, text.value);
        fit(text);
        write();
      });
      box.appendChild(role);
      box.appendChild(text);
    } else {
      box.classList.add("chat-other");
      box.appendChild(element("span", "chat-summary", summary(item)));
      box.appendChild(element("span", "muted small", "edit it in the JSON view"));
    }
    var remove = element("button", "chat-remove link", "Remove");
    remove.type = "button";
    remove.setAttribute("aria-label", "Remove input[" + index + "]");
    remove.addEventListener("click", function () {
      items.splice(index, 1);
      render();
      write();
    });
    box.appendChild(remove);
    return box;
  }

  // A message box grows with its text, up to about eight lines, then scrolls.
  function fit(text) {
    text.style.height = "auto";
    text.style.height = Math.min(text.scrollHeight + 2, 180) + "px";
  }

  function render() {
    rows.replaceChildren.apply(rows, items.map(row));
    rows.querySelectorAll(".chat-text").forEach(fit);
  }

  function enable(on, message) {
    editor.classList.toggle("stale", !on);
    editor.querySelectorAll("select, textarea, button").forEach(function (control) {
      control.disabled = !on;
    });
    note.hidden = on;
    note.textContent = message || "";
  }

  // Editor → JSON: the textarea is the source of truth the form sends.
  function write() {
    writing = true;
    source.value = JSON.stringify(items, null, 2);
    source.dispatchEvent(new Event("input", { bubbles: true }));
    writing = false;
  }

  // JSON → editor: only when the JSON parses into a list, so nothing typed is overwritten.
  function read() {
    if (writing) return;
    var text = source.value.trim();
    if (!text) {
      items = [];
      render();
      enable(true);
      return;
    }
    var parsed;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      enable(false, "The JSON does not parse yet: fix it in the JSON view; the rows wait for it.");
      return;
    }
    if (!Array.isArray(parsed)) {
      enable(false, "The input JSON is not a list; the rows show lists of items.");
      return;
    }
    items = parsed;
    render();
    enable(true);
  }

  add.addEventListener("click", function () {
    items.push({ role: "user", content: "" });
    render();
    write();
    var boxes = rows.querySelectorAll(".chat-text");
    if (boxes.length) boxes[boxes.length - 1].focus();
  });
  source.addEventListener("input", read);
  form.addEventListener("change", function (event) {
    if (event.target.name === "input_kind") showKind();
  });

  // One view of the input at a time: message rows, or the JSON they are kept in.
  var items_ = editor.closest(".kind-items");
  var switcher = items_.querySelector(".input-view");
  var json = items_.querySelector(".pg-field-input_items");

  function show(view) {
    items_.dataset.view = view;
    editor.hidden = view !== "rows";
    json.hidden = view !== "json";
    switcher.querySelectorAll("[data-input-view]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.dataset.inputView === view ? "true" : "false");
    });
  }

  switcher.addEventListener("click", function (event) {
    var button = event.target.closest("[data-input-view]");
    if (button) show(button.dataset.inputView);
  });

  showKind();
  read();
  switcher.hidden = false;
  show(editor.classList.contains("stale") ? "json" : "rows");
})();
