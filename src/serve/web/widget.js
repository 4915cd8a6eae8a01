/* The chatflow web chat: one <script src=".../widget.js"> tag on any page.
 *
 * It talks to the HTTP API of `chatflow serve` (docs/http-api.md) at the origin this script was
 * loaded from. Bot text is always inserted as text (textContent), never as HTML. The
 * conversation's id and token are kept in localStorage, so a reload resumes it with its
 * transcript. `data-mode="page"` fills the page (the page at `/`); otherwise a launcher button
 * opens a floating panel. Messages ask for server-sent events, so a model's reply grows while it
 * arrives; the turn's own events replace it at the end. See docs/web-chat.md.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__chatflowLoaded) return;
  window.__chatflowLoaded = true;

  var base = new URL(script.src, location.href).origin;
  var mode = script.getAttribute("data-mode") === "page" ? "page" : "bubble";
  var storeKey = "chatflow:" + base;

  // ---- small DOM helpers: text goes in as text ----

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /** A URL the page may follow or load: http(s), mailto and tel only (no javascript:). */
  function safeUrl(raw) {
    try {
      var url = new URL(String(raw), location.href);
      return /^(https?|mailto|tel):$/.test(url.protocol) ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function newId(prefix) {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return prefix + Array.prototype.map.call(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }

  // ---- the frame: panel, header, log, composer ----

  var link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = base + "/widget.css";
  document.head.appendChild(link);

  var root = el("div", "cf-root cf-" + mode);
  var panel = el("section", "cf-panel");
  panel.setAttribute("aria-label", "Chat");
  var header = el("header", "cf-header");
  var avatar = el("img", "cf-avatar");
  avatar.alt = "";
  avatar.hidden = true;
  var title = el("h1", null, "Chat");
  var restart = el("button", "cf-icon-button cf-restart", "New chat");
  restart.type = "button";
  header.append(avatar, title, restart);

  var log = el("div", "cf-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0;

  var composer = el("form", "cf-composer");
  var inputLabel = el("label", "cf-visually-hidden", "Your message");
  inputLabel.htmlFor = "cf-input";
  var input = el("input", "cf-input");
  input.id = "cf-input";
  input.type = "text";
  input.autocomplete = "off";
  input.placeholder = "Type your message…";
  input.maxLength = 4000;
  var send = el("button", "cf-send", "Send");
  send.type = "submit";
  composer.append(inputLabel, input, send);
  panel.append(header, log, composer);
  root.append(panel);

  var launcher = null;
  if (mode === "bubble") {
    panel.hidden = true;
    panel.id = "cf-panel";
    launcher = el("button", "cf-launcher", "💬");
    launcher.type = "button";
    launcher.setAttribute("aria-label", "Open chat");
    launcher.setAttribute("aria-controls", "cf-panel");
    launcher.setAttribute("aria-expanded", "false");
    var close = el("button", "cf-icon-button", "Close");
    close.type = "button";
    close.setAttribute("aria-label", "Close chat");
    header.append(close);
    launcher.addEventListener("click", function () { setOpen(panel.hidden); });
    close.addEventListener("click", function () { setOpen(false); });
    panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape") setOpen(false);
    });
    root.append(launcher);
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    if (open) {
      start();
      input.focus();
    } else {
      launcher.focus();
    }
  }

  // ---- state ----

  var conv = load(); // {id, token} or null
  var busy = false;
  var ended = false;
  var started = false;

  function load() {
    try {
      var saved = JSON.parse(localStorage.getItem(storeKey) || "null");
      return saved && typeof saved.id === "string" && typeof saved.token === "string" ? saved : null;
    } catch (e) {
      return null;
    }
  }

  function save() {
    try {
      if (conv) localStorage.setItem(storeKey, JSON.stringify(conv));
      else localStorage.removeItem(storeKey);
    } catch (e) { /* private mode: the chat still works, it just does not survive a reload */ }
  }

  // ---- the API ----

  function api(method, path, body) {
    var headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (conv) headers.Authorization = "Bearer " + conv.token;
    return fetch(base + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        return { status: res.status, data: data };
      });
    });
  }

  function start() {
    if (started) return;
    started = true;
    if (conv) {
      resume();
    } else {
      open();
    }
  }

  function open() {
    conv = null;
    ended = false;
    setBusy(true);
    api("POST", "/api/conversations", { channel: "web" }).then(function (res) {
      setBusy(false);
      if (res.status !== 201) {
        notice("The chat could not start. Please try again later.", true);
        return;
      }
      conv = { id: res.data.id, token: res.data.token };
      save();
      renderTurn(res.data.events || []);
      setState(res.data.state);
    }, function () {
      setBusy(false);
      notice("The chat could not start: the server did not answer.", true);
    });
  }

  function resume() {
    setBusy(true);
    api("GET", "/api/conversations/" + encodeURIComponent(conv.id) + "/transcript").then(function (res) {
      setBusy(false);
      if (res.status === 401 || res.status === 404) {
        // Erased, expired or from another server: start over.
        conv = null;
        save();
        open();
        return;
      }
      if (res.status !== 200) {
        notice("The conversation could not be loaded.", true);
        return;
      }
      var turns = res.data.turns || [];
      turns.forEach(function (turn) {
        if (turn.message) userBubble(displayText(turn.message.text));
        renderTurn(turn.events || []);
      });
      var last = turns[turns.length - 1];
      setState(last && last.state ? last.state : "waiting");
    }, function () {
      setBusy(false);
      notice("The conversation could not be loaded: the server did not answer.", true);
    });
  }

  /** Sends one message; `shown` is what the visitor's bubble says (a label, not a payload). */
  function sendMessage(text, shown) {
    if (busy || ended || !conv || !text) return;
    retire();
    userBubble(shown === undefined ? text : shown);
    post(text, newId("m-"), 0);
  }

  function post(text, messageId, attempt) {
    setBusy(true);
    var path = "/api/conversations/" + encodeURIComponent(conv.id) + "/messages";
    var body = { text: text, message_id: messageId };
    var sent = streams ? postStreamed(path, body) : api("POST", path, body);
    sent.then(function (res) {
      setBusy(false);
      clearReplies();
      if (res.status === 200) {
        renderTurn(res.data.events || []);
        setState(res.data.state);
      } else if (res.status === 409) {
        setState("closed");
      } else if (res.status === 401 || res.status === 404) {
        notice("This conversation is no longer available.", true);
        conv = null;
        save();
        setState("closed");
      } else {
        var message = res.data && res.data.error ? res.data.error.message : "error " + res.status;
        notice("Not sent: " + message, true);
      }
    }, function () {
      clearReplies();
      // The network failed: send again with the same message_id, which the server answers
      // from its store if the first one did arrive.
      if (attempt < 2) {
        setTimeout(function () { post(text, messageId, attempt + 1); }, 800 * (attempt + 1));
      } else {
        setBusy(false);
        notice("Not sent: the server did not answer. Please try again.", true);
      }
    });
  }

  // ---- a turn as server-sent events: the model's replies grow as they arrive ----

  var streams = typeof TextDecoder === "function" && typeof ReadableStream === "function";
  var replies = {}; // reply number -> its growing bubble

  /**
   * POSTs a message asking for server-sent events (docs/http-api.md). `delta` events grow a
   * bubble per model reply, `retract` removes one (the model failed; the flow's own answer
   * comes with the turn), and `turn` or `error` resolves like a JSON answer. An answer that
   * is not a stream (a refusal: 401, 409, ...) is read as JSON.
   */
  function postStreamed(path, body) {
    var headers = { "Content-Type": "application/json", Accept: "text/event-stream" };
    if (conv) headers.Authorization = "Bearer " + conv.token;
    return fetch(base + path, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(body),
    }).then(function (res) {
      var type = res.headers.get("Content-Type") || "";
      if (!res.ok || type.indexOf("text/event-stream") !== 0 || !res.body) {
        return res.json().catch(function () { return {}; }).then(function (data) {
          return { status: res.status, data: data };
        });
      }
      return readEvents(res.body.getReader());
    });
  }

  function readEvents(reader) {
    var decoder = new TextDecoder();
    var buffer = "";
    var result = null;
    function take() {
      buffer = buffer.replace(/\r\n?/g, "\n");
      var end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        var block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        var name = "message";
        var data = [];
        block.split("\n").forEach(function (line) {
          var colon = line.indexOf(":");
          var field = colon < 0 ? line : line.slice(0, colon);
          var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") name = value;
          else if (field === "data") data.push(value);
        });
        if (data.length) result = onEvent(name, JSON.parse(data.join("\n"))) || result;
      }
    }
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          buffer += decoder.decode() + "\n\n";
          take();
          if (result) return result;
          throw new Error("the stream ended before the turn did");
        }
        buffer += decoder.decode(chunk.value, { stream: true });
        take();
        return pump();
      });
    }
    return pump();
  }

  /** One server-sent event; the turn's end gives the answer. */
  function onEvent(name, data) {
    if (name === "delta") {
      var bubble = replies[data.reply];
      if (!bubble) {
        bubble = replies[data.reply] = botBubble("");
        bubble.classList.add("cf-streaming");
        bubble.setAttribute("aria-busy", "true");
      }
      bubble.textContent += String(data.text);
      log.scrollTop = log.scrollHeight;
    } else if (name === "retract") {
      if (replies[data.reply]) replies[data.reply].remove();
      delete replies[data.reply];
    } else if (name === "turn") {
      return { status: 200, data: data };
    } else if (name === "error") {
      return { status: data.status || 500, data: { error: data.error } };
    }
    return null;
  }

  /** The turn's own events replace the replies shown while they arrived. */
  function clearReplies() {
    Object.keys(replies).forEach(function (k) { replies[k].remove(); });
    replies = {};
  }

  // ---- rendering ----

  function append(node) {
    var typing = log.querySelector(".cf-typing");
    if (typing) log.insertBefore(node, typing);
    else log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function botBubble(text) { return append(el("div", "cf-msg cf-msg-bot", text)); }
  function userBubble(text) { return append(el("div", "cf-msg cf-msg-user", text)); }
  function notice(text, isError) {
    return append(el("div", "cf-notice" + (isError ? " cf-notice-error" : ""), text));
  }

  /** A stored form answer (a JSON object) reads as `field: value` lines. */
  function displayText(text) {
    if (typeof text !== "string" || text.charAt(0) !== "{") return text;
    try {
      var obj = JSON.parse(text);
      return Object.keys(obj).map(function (k) { return k + ": " + obj[k]; }).join("\n");
    } catch (e) {
      return text;
    }
  }

  /** Choices and forms of earlier turns can no longer be answered. */
  function retire() {
    log.querySelectorAll(".cf-live").forEach(function (node) {
      node.classList.remove("cf-live");
      node.querySelectorAll("button, input").forEach(function (c) { c.disabled = true; });
    });
    input.type = "text";
    input.placeholder = "Type your message…";
  }

  function renderTurn(events) {
    retire();
    events.forEach(renderEvent);
  }

  var renderers = {
    profile: function (e) {
      title.textContent = e.name;
      if (mode === "page") document.title = e.name;
      var src = e.avatar && safeUrl(e.avatar);
      if (src) {
        avatar.src = src;
        avatar.hidden = false;
        avatar.onerror = function () { avatar.hidden = true; };
      }
    },
    say: function (e) { botBubble(e.text); },
    ask: function (e) {
      var types = { email: "email", phone: "tel", number: "text", url: "url" };
      input.type = types[e.kind] || "text";
      input.placeholder = e.kind === "file" ? "Paste a link…" : "Type your answer…";
    },
    choices: function (e) {
      if (e.text) botBubble(e.text);
      append(choiceGroup(e.options || [], e.style === "buttons" ? "buttons" : "quick_replies"));
    },
    carousel: function (e) {
      var strip = el("div", "cf-carousel cf-live");
      strip.setAttribute("role", "list");
      (e.cards || []).forEach(function (card) {
        var node = el("article", "cf-card");
        node.setAttribute("role", "listitem");
        var img = card.image && safeUrl(card.image);
        if (img) {
          var image = el("img");
          image.src = img;
          image.alt = "";
          image.loading = "lazy";
          node.append(image);
        }
        var body = el("div", "cf-card-body");
        body.append(el("div", "cf-card-title", card.title));
        if (card.subtitle) body.append(el("div", "cf-card-subtitle", card.subtitle));
        node.append(body);
        if (card.buttons && card.buttons.length) node.append(choiceGroup(card.buttons, "buttons", true));
        strip.append(node);
      });
      append(strip);
    },
    media: function (e) { append(mediaNode(e)); },
    form: function (e) { append(formNode(e)); },
    transfer: function (e) {
      notice(e.kind === "agent" ? "You are now chatting with " + e.to + "." : "Transferred to " + e.to + ".");
    },
    forwarded: function () { /* the visitor's own bubble already shows it */ },
    email: function (e) { if (e.delivered) notice("Email sent to " + e.to + "."); },
    invalid: function () { /* a re-prompt follows */ },
    closed: function () { ended = true; },
    runtime_error: function () { notice("The bot ran into a problem. Please try again.", true); },
  };

  function renderEvent(e) {
    var render = e && renderers[e.type];
    if (render) render(e); // trace events (node_entered, api_call, ...) and goals are not shown
  }

  function choiceGroup(options, style, inCard) {
    var group = el("div", "cf-choices cf-choices-" + (style === "buttons" ? "buttons" : "quick") + (inCard ? "" : " cf-live"));
    group.setAttribute("role", "group");
    options.forEach(function (o) {
      if (o.kind === "link") {
        var href = safeUrl(o.url);
        var a = el("a", "cf-choice cf-link", o.label);
        if (href) a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        group.append(a);
        return;
      }
      var b = el("button", "cf-choice cf-reply", o.label);
      b.type = "button";
      b.addEventListener("click", function () {
        sendMessage(o.kind === "postback" && o.payload ? o.payload : o.label, o.label);
      });
      group.append(b);
    });
    return group;
  }

  function mediaNode(e) {
    var box = el("figure", "cf-media");
    box.style.margin = "0";
    var src = safeUrl(e.url);
    var node;
    if (src && e.kind === "image") {
      node = el("img");
      node.alt = e.caption || "image";
      // An image that cannot load leaves its caption rather than a broken-image box.
      node.onerror = function () { this.hidden = true; };
      node.src = src;
    } else if (src && (e.kind === "audio" || e.kind === "video")) {
      node = el(e.kind);
      node.controls = true;
      node.preload = "metadata";
      node.src = src;
      if (e.caption) node.setAttribute("aria-label", e.caption);
    } else {
      node = el("a", "cf-choice cf-link", e.caption || "Download file");
      if (src) node.href = src;
      node.target = "_blank";
      node.rel = "noopener noreferrer";
    }
    box.append(node);
    if (e.caption && node.tagName !== "A") box.append(el("figcaption", "cf-caption", e.caption));
    return box;
  }

  function formNode(e) {
    var types = { email: "email", phone: "tel", date: "date", url: "url", number: "number" };
    var form = el("form", "cf-form cf-live");
    var fields = el("fieldset", null);
    fields.style.border = "0";
    fields.style.padding = "0";
    fields.style.margin = "0";
    fields.style.display = "contents";
    if (e.title) fields.append(el("legend", null, e.title));
    var inputs = [];
    (e.fields || []).forEach(function (f) {
      var label = el("label", null, f.label);
      var field = el("input");
      field.type = types[f.kind] || "text";
      if (f.kind === "number") field.step = "any";
      field.name = f.attr;
      field.required = true;
      label.append(field);
      fields.append(label);
      inputs.push(field);
    });
    var submit = el("button", "cf-submit", "Send");
    submit.type = "submit";
    fields.append(submit);
    form.append(fields);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var answer = {};
      var shown = [];
      inputs.forEach(function (field, i) {
        answer[field.name] = field.value;
        shown.push(e.fields[i].label + ": " + field.value);
      });
      sendMessage(JSON.stringify(answer), shown.join("\n"));
    });
    return form;
  }

  function setBusy(on) {
    busy = on;
    send.disabled = on || ended;
    var typing = log.querySelector(".cf-typing");
    if (on && !typing) {
      typing = el("div", "cf-typing");
      typing.setAttribute("role", "status");
      typing.setAttribute("aria-label", "The bot is typing");
      typing.append(el("span"), el("span"), el("span"));
      log.appendChild(typing);
      log.scrollTop = log.scrollHeight;
    } else if (!on && typing) {
      typing.remove();
    }
  }

  function setState(state) {
    if (state === "closed" || state === "failed" || ended) {
      ended = true;
      retire();
      notice(state === "failed" ? "The chat stopped because of an error." : "The chat has ended.");
      input.disabled = true;
      send.disabled = true;
      input.placeholder = "The chat has ended";
      restart.focus();
    } else {
      input.disabled = false;
      send.disabled = busy;
      if (document.activeElement === document.body || document.activeElement === send) input.focus();
    }
  }

  // ---- wiring ----

  composer.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text || busy || ended) return;
    input.value = "";
    sendMessage(text);
  });

  restart.addEventListener("click", function () {
    if (busy) return;
    log.textContent = "";
    input.disabled = false;
    input.placeholder = "Type your message…";
    open();
    input.focus();
  });

  function mount() {
    document.body.appendChild(root);
    if (mode === "page") {
      start();
      input.focus();
    }
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
