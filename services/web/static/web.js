// HR-mnenie web client: small enhancements only. Every page and form works without this file.
(function () {
  "use strict";

  // What is still missing, updated as the member types (the server says the same on saving).
  function watchMissing() {
    var form = document.getElementById("profile-form");
    var list = document.getElementById("missing");
    var none = document.getElementById("missing-none");
    if (!form || !list) return;
    function update() {
      var left = 0;
      form.querySelectorAll("[data-required]").forEach(function (input) {
        var item = list.querySelector('[data-field="' + input.dataset.required + '"]');
        var empty = input.value.trim() === "";
        if (item) item.hidden = !empty;
        if (empty) left += 1;
      });
      if (none) none.hidden = left > 0;
    }
    form.addEventListener("input", update);
    update();
  }

  // A form is sent once: a second click while the first is on its way does nothing.
  function sendOnce() {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.sent) { event.preventDefault(); return; }
        form.dataset.sent = "1";
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
      });
    });
  }

  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = document.getElementById(button.dataset.copy);
        if (!input) return;
        input.select();
        var done = function () { button.textContent = button.dataset.copied; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
        } else { document.execCommand("copy"); done(); }
      });
    });
  }

  // After a refused form, the keyboard starts at the first field in error.
  function focusFirstError() {
    var bad = document.querySelector("[aria-invalid=true]");
    if (bad) { bad.focus(); return; }
    var box = document.getElementById("form-error");
    if (box) { box.setAttribute("tabindex", "-1"); box.focus(); }
  }

  // ---------------------------------------------------------------- live: the member's stream
  // The page says where its stream starts (body[data-stream]); the web client relays the member's stream
  // from the platform. Every text written here goes in with textContent: never as markup.

  var MENTION = /@\[([^\]\n]{0,200})\]\(([A-Za-z0-9_-]{1,64})\)|(?<![\p{L}\p{N}_@])@(all|все)(?![\p{L}\p{N}_])/giu;

  function json(element, name) {
    try { return JSON.parse((element && element.dataset[name]) || "{}") || {}; } catch (e) { return {}; }
  }

  function total(counts) {
    return Object.keys(counts).reduce(function (sum, key) { return sum + (Number(counts[key]) || 0); }, 0);
  }

  function setCount(badge, n) {
    if (!badge) return;
    var shown = badge.querySelector(".n");
    if (shown) shown.textContent = String(n);
    badge.hidden = !n;
  }

  function csrf() {
    var input = document.querySelector('input[name="csrf"]');
    return input ? input.value : "";
  }

  function when(list, iso) {
    var moment = new Date(iso);
    if (!iso || isNaN(moment.getTime())) return "";
    var parts;
    try {
      parts = new Intl.DateTimeFormat("ru-RU", { timeZone: list.dataset.zone, day: "2-digit", month: "2-digit",
        year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(moment);
    } catch (e) { return moment.toLocaleString(); }
    var part = function (type) { var p = parts.find(function (x) { return x.type === type; }); return p ? p.value : ""; };
    return part("day") + "." + part("month") + "." + part("year") + " " + part("hour") + ":" + part("minute") +
      " (" + list.dataset.offset + ")";
  }

  // A message's text with the members it names and @all marked, as the server writes it.
  function writeText(target, text, me) {
    while (target.firstChild) target.removeChild(target.firstChild);
    var at = 0, found;
    MENTION.lastIndex = 0;
    while ((found = MENTION.exec(text)) !== null) {
      if (found.index > at) target.appendChild(document.createTextNode(text.slice(at, found.index)));
      var mark;
      if (found[2]) {
        mark = document.createElement("a");
        mark.href = "/colleagues/" + found[2];
        mark.className = "at" + (found[2] === me ? " at-me" : "");
        mark.textContent = "@" + found[1];
      } else {
        mark = document.createElement("span");
        mark.className = "at at-all";
        mark.textContent = found[0];
      }
      target.appendChild(mark);
      at = found.index + found[0].length;
    }
    if (at < text.length) target.appendChild(document.createTextNode(text.slice(at)));
  }

  // A copy of the page's <template> for a message, its ids and addresses made this message's.
  function fromTemplate(id, messageId) {
    var template = document.getElementById(id);
    if (!template) return null;
    var node = template.content.firstElementChild.cloneNode(true);
    [node].concat(Array.prototype.slice.call(node.querySelectorAll("*"))).forEach(function (el) {
      ["id", "for", "href", "action", "aria-describedby"].forEach(function (name) {
        var value = el.getAttribute(name);
        if (value && value.indexOf("__ID__") >= 0) el.setAttribute(name, value.split("__ID__").join(messageId));
      });
    });
    return node;
  }

  function reactions(item, m) {
    var box = item.querySelector(".reactions");
    if (!box) return;
    var list = box.querySelector(".reaction-list");
    var form = box.querySelector("form");
    while (list.firstChild) list.removeChild(list.firstChild);
    (m.reactions || []).forEach(function (r) {
      var el = document.createElement(form ? "button" : "span");
      el.className = "reaction" + (r.mine && form ? " mine" : "");
      if (form) {
        el.type = "submit"; el.name = "reaction"; el.value = (r.mine ? "off:" : "on:") + r.reaction;
        el.setAttribute("aria-pressed", r.mine ? "true" : "false");
      }
      el.textContent = r.reaction + " " + r.count;
      list.appendChild(el);
    });
    box.hidden = m.deleted || (!form && !(m.reactions || []).length);
  }

  // A group's message as it is now: author, time, marks, text, reactions; the controls a deleted one loses.
  function fillMessage(list, item, m) {
    var me = list.dataset.me;
    item.dataset.author = m.author_id || "";
    item.classList.toggle("mention", !!m.mentions_me);
    item.classList.toggle("is-deleted", !!m.deleted);
    var author = item.querySelector(".author");
    var name = m.author_id && m.author_name ? m.author_name : list.dataset.deletedName;
    if (author && author.tagName === "A" && !(m.author_id && m.author_name)) {
      var plain = document.createElement("span");
      plain.className = "author";
      author.parentNode.replaceChild(plain, author);
      author = plain;
    }
    if (author) {
      author.textContent = name;
      if (author.tagName === "A") author.setAttribute("href", "/colleagues/" + m.author_id);
    }
    var time = item.querySelector(".when");
    if (time && m.posted_at) time.textContent = when(list, m.posted_at);
    var edited = item.querySelector(".edited");
    if (edited) edited.hidden = !(m.edited && !m.deleted);
    var note = item.querySelector(".mention-note");
    if (note) note.hidden = !m.mentions_me;
    var text = item.querySelector(".text");
    var present = !m.deleted && m.text !== null && m.text !== undefined;
    if (text) { text.hidden = !present; writeText(text, present ? m.text : "", me); }
    var deleted = item.querySelector(".deleted-note");
    if (deleted) deleted.hidden = !m.deleted;
    var erased = item.querySelector(".erased-note");
    if (erased) erased.hidden = m.deleted || present;
    reactions(item, m);
    var edit = item.querySelector(".edit textarea");
    if (edit && present && document.activeElement !== edit) edit.value = m.text;
    if (m.deleted) {
      var tools = item.querySelector(".message-tools");
      if (tools) tools.parentNode.removeChild(tools);
      var thread = item.querySelector(".thread");
      var link = item.querySelector(".thread-link");
      if (thread && link && !Number(link.dataset.replies)) thread.hidden = true;
    }
  }

  function buildMessage(list, m) {
    var item = fromTemplate("message-template", m.message_id);
    if (!item) return null;
    item.dataset.message = m.message_id;
    item.dataset.position = String(m.position);
    if (m.author_id !== list.dataset.me) {
      var edit = item.querySelector(".edit");
      if (edit) edit.parentNode.removeChild(edit);
      var tools = item.querySelector(".message-tools");
      if (tools && !list.dataset.managing) tools.parentNode.removeChild(tools);
    }
    fillMessage(list, item, m);
    return item;
  }

  function buildDirect(list, m) {
    var item = fromTemplate("message-template", m.message_id);
    if (!item) return null;
    var mine = !!m.sender_id && m.sender_id === list.dataset.me;
    item.dataset.message = m.message_id;
    item.dataset.position = String(m.position);
    item.dataset.author = m.sender_id || "";
    item.classList.toggle("own", mine);
    item.querySelector(".author").textContent = mine ? list.dataset.you : (m.sender_name || list.dataset.deletedName);
    item.querySelector(".when").textContent = when(list, m.sent_at);
    var text = item.querySelector(".text");
    var present = m.text !== null && m.text !== undefined;
    text.textContent = present ? m.text : "";
    text.hidden = !present;
    item.querySelector(".gone").hidden = present;
    return item;
  }

  // The open page has read what arrived: its read mark moves (at once when the page is seen, else when it is).
  function reader(list) {
    var pending = 0;
    var mark = null;
    function send() {
      if (!pending || !list.dataset.read || document.visibilityState !== "visible") return;
      var body = new URLSearchParams();
      body.set("csrf", csrf());
      body.set("up_to", String(pending));
      if (list.dataset.thread) body.set("thread_id", list.dataset.thread);
      pending = 0;
      fetch(list.dataset.read, { method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "application/json" } }).catch(function () { /* read on the next visit */ });
    }
    document.addEventListener("visibilitychange", send);
    return {
      arrived: function (item, position) {
        if (document.visibilityState !== "visible" && !mark) {
          // where the new ones begin, for when the member comes back to the page
          var old = list.querySelector(".new-mark");
          if (old) old.parentNode.removeChild(old);
          mark = fromTemplate("new-mark-template", "");
          if (mark) list.insertBefore(mark, item);
        }
        if (document.visibilityState === "visible") mark = null;
        pending = Math.max(pending, position);
        send();
      }
    };
  }

  function appendLive(list, item) {
    list.appendChild(item);
    var empty = document.getElementById("chat-empty") || document.getElementById("conversation-empty");
    if (empty) empty.hidden = true;
  }

  function liveStream() {
    var start = document.body.dataset.stream;
    if (!start || !window.EventSource) return;
    var nav = document.getElementById("nav-messages");
    var counts = json(nav, "counts");
    var mentions = json(nav, "mentionCounts");
    var chat = document.getElementById("messages");
    var direct = document.getElementById("direct");
    var chatReader = chat && chat.dataset.group ? reader(chat) : null;
    var directReader = direct ? reader(direct) : null;
    var last = null;
    var wait = 2000;
    var source;

    function parse(event) {
      if (event.lastEventId) last = event.lastEventId;
      try { return JSON.parse(event.data); } catch (e) { return null; }
    }

    function badges(selector, n) {
      document.querySelectorAll(selector).forEach(function (badge) { setCount(badge, n); });
    }

    function count(item) {
      if (item.unread === null || item.unread === undefined) return;
      var group = item.kind !== "direct_message" && item.kind !== "conversation_read";
      var id = group ? item.group_id : item.member_id;
      if (!id) return;
      var key = (group ? "g:" : "c:") + id;
      counts[key] = item.unread;
      badges(group ? '[data-unread-group="' + CSS.escape(id) + '"]' : '[data-unread-member="' + CSS.escape(id) + '"]',
        item.unread);
      if (group && item.mentions !== null && item.mentions !== undefined) {
        mentions[key] = item.mentions;
        badges('[data-mentions-group="' + CSS.escape(id) + '"]', item.mentions);
      }
      setCount(document.getElementById("unread-total"), total(counts));
      setCount(document.getElementById("unread-mentions"), total(mentions));
    }

    function onMessage(event) {
      var item = parse(event);
      if (!item) return;
      count(item);
      var m = item.message;
      if (!chat || !m || item.group_id !== chat.dataset.group) return;
      var shown = document.getElementById("m-" + m.message_id);
      if (shown) { fillMessage(chat, shown, m); return; }
      var thread = chat.dataset.thread || null;
      if ((m.thread_id || null) !== thread) {
        // a reply elsewhere: its thread's count here is what the platform says it is now
        var root = m.thread_id ? document.getElementById("m-" + m.thread_id) : null;
        var link = root && root.querySelector(".thread-link");
        if (link && typeof item.thread_replies === "number") {
          var n = item.thread_replies;
          link.dataset.replies = String(n);
          link.textContent = chat.dataset.repliesText.replace("{n}", String(n));
          link.parentNode.hidden = n === 0;
        }
        return;
      }
      if (item.kind !== "message_posted" || !chat.dataset.live) return;
      var built = buildMessage(chat, m);
      if (!built) return;
      appendLive(chat, built);
      if (m.author_id !== chat.dataset.me && chatReader) chatReader.arrived(built, m.position);
    }

    function onDirect(event) {
      var item = parse(event);
      if (!item) return;
      count(item);
      var m = item.direct;
      if (!direct || !m || item.member_id !== direct.dataset.member || !direct.dataset.live) return;
      if (document.getElementById("dm-" + m.message_id)) return;
      var built = buildDirect(direct, m);
      if (!built) return;
      appendLive(direct, built);
      if (m.sender_id !== direct.dataset.me && directReader) directReader.arrived(built, m.position);
    }

    function onCount(event) {
      var item = parse(event);
      if (item) count(item);
    }

    function connect() {
      // a stream opened anew (the browser gave up on the last one) resumes after the last event it had
      var url = last ? "/stream?after=" + encodeURIComponent(last) : start;
      source = new EventSource(url);
      source.addEventListener("ready", function (event) {
        if (event.lastEventId) last = event.lastEventId;
        wait = 2000;
        document.documentElement.setAttribute("data-live", "on");
      });
      ["message_posted", "message_edited", "message_deleted", "reaction_changed"].forEach(function (kind) {
        source.addEventListener(kind, onMessage);
      });
      source.addEventListener("direct_message", onDirect);
      source.addEventListener("read", onCount);
      source.addEventListener("conversation_read", onCount);
      source.addEventListener("reset", function () { source.close(); window.location.reload(); });
      source.onerror = function () {
        document.documentElement.setAttribute("data-live", "off");
        if (source.readyState === EventSource.CLOSED) {
          window.setTimeout(connect, wait);
          wait = Math.min(wait * 2, 60000);
        }
      };
    }

    connect();
  }

  // Picking a member to mention writes the mention where the cursor is (the form would add it at the start).
  function mentionPicker() {
    var select = document.getElementById("f-mention");
    var text = document.getElementById("f-text");
    if (!select || !text) return;
    select.addEventListener("change", function () {
      if (!select.value) return;
      var at = typeof text.selectionStart === "number" ? text.selectionStart : text.value.length;
      var before = text.value.slice(0, at), after = text.value.slice(at);
      var insert = (before && !/\s$/.test(before) ? " " : "") + select.value + " ";
      text.value = before + insert + after;
      select.value = "";
      text.focus();
      text.setSelectionRange(at + insert.length, at + insert.length);
    });
  }

  // ---------------------------------------------------------------- a group's drive: uploads
  // The file goes as it is (the request's body, not a form), its progress shown; the web client streams it on.
  // The size limit and the space left are checked here first (the platform checks them again).
  function driveUploads() {
    document.querySelectorAll("form[data-upload]").forEach(function (form) {
      var input = form.querySelector("input[type=file]");
      var line = form.querySelector(".upload-progress");
      var bar = line.querySelector("progress");
      var said = line.querySelector("[role=status]");
      var box = form.querySelector("[data-upload-error]");
      var button = form.querySelector("button[type=submit]");
      function fail(message) {
        delete form.dataset.sent;
        button.removeAttribute("aria-disabled");
        line.hidden = true;
        box.textContent = message;
        box.hidden = false;
        box.setAttribute("tabindex", "-1");
        box.focus();
      }
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (form.dataset.sent) return;
        var file = input.files && input.files[0];
        if (!file) { fail(form.dataset.msgChoose); return; }
        var max = Number(form.dataset.maxBytes), free = Number(form.dataset.freeBytes);
        if (max > 0 && file.size > max) { fail(form.dataset.msgTooLarge); return; }
        if (file.size > free) { fail(form.dataset.msgNoRoom); return; }
        form.dataset.sent = "1";
        button.setAttribute("aria-disabled", "true");
        box.hidden = true;
        line.hidden = false;
        bar.max = 100; bar.value = 0;
        said.textContent = form.dataset.msgSending;
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action + (form.dataset.named ? "?name=" + encodeURIComponent(file.name) : ""));
        xhr.setRequestHeader("X-CSRF-Token", form.querySelector('input[name="csrf"]').value);
        xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
        xhr.setRequestHeader("Accept", "application/json");
        xhr.upload.onprogress = function (e) {
          if (!e.lengthComputable) return;
          var percent = Math.floor(100 * e.loaded / e.total);
          bar.value = percent;
          said.textContent = form.dataset.msgProgress + ": " + percent + "%";
        };
        xhr.onload = function () {
          var body = null;
          try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
          if (xhr.status >= 200 && xhr.status < 300 && body && body.location) {
            window.location.assign(body.location);
            return;
          }
          fail((body && body.error) || form.dataset.msgFailed);
        };
        xhr.onerror = function () { fail(form.dataset.msgFailed); };
        xhr.send(file);
      });
    });
  }

  // ---------------------------------------------------------------- feedback: the quality check as one types
  // The feedback service's own check of the parts (form[data-check] says where the web client asks it); what it
  // answers is written beside each part, as text. No rule of the standard lives here: sending checks again.
  function liveCheck() {
    document.querySelectorAll("form[data-check]").forEach(function (form) {
      var fields = Array.prototype.slice.call(form.querySelectorAll("[data-part]"));
      var summary = form.querySelector(".check-summary");
      var timer = null, asked = 0;
      function show(said) {
        fields.forEach(function (field) {
          var note = document.getElementById("check-" + field.name);
          var part = (said.parts || {})[field.name];
          if (!note || !part) return;
          note.textContent = part.words;
          note.dataset.ok = part.ok ? "yes" : "no";
          note.className = "check-note " + (part.ok ? "check-ok" : "check-bad");
          note.hidden = false;
          // a part the check now finds fine no longer carries the refusal it had when the form was sent
          var refused = document.getElementById("e-" + field.name);
          if (part.ok && refused) {
            refused.hidden = true;
            field.removeAttribute("aria-invalid");
          }
        });
        if (summary && said.summary) {
          summary.textContent = said.summary;
          summary.dataset.ok = said.ok ? "yes" : "no";
        }
      }
      function ask() {
        // as the form itself is sent, multipart: Cyrillic goes as two bytes a letter, not six
        var body = new FormData();
        body.set("csrf", csrf());
        fields.forEach(function (field) { body.set(field.name, field.value); });
        var mine = ++asked;
        fetch(form.dataset.check, { method: "POST", body: body, credentials: "same-origin",
          headers: { "Accept": "application/json" } })
          .then(function (response) { return response.json(); })
          .then(function (said) { if (said && mine === asked) show(said); })
          .catch(function () { /* the check only helps: sending the form checks it again */ });
      }
      form.addEventListener("input", function (event) {
        if (!event.target.dataset || !event.target.dataset.part) return;
        window.clearTimeout(timer);
        timer = window.setTimeout(ask, 300);
      });
      if (fields.some(function (field) { return field.value.trim() !== ""; })) ask();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    watchMissing(); sendOnce(); copyButtons(); focusFirstError(); mentionPicker(); liveStream(); driveUploads();
    liveCheck();
  });
})();
