// Kiosk page: microphone -> 16 kHz PCM over a WebSocket; shows partial/final text and replies,
// plays the spoken reply. No audio or transcript is kept beyond what is on the screen, and the
// server clears the screen (type "reset") when the idle timeout starts a new session.
"use strict";

const $ = (id) => document.getElementById(id);
const ui = {
  status: $("status"), conversation: $("conversation"), partial: $("partial"),
  quick: $("quick-replies"), talk: $("talk"), talkLabel: $("talk-label"), repeat: $("repeat"),
  human: $("human"), mode: $("mode"), form: $("text-form"), input: $("text-input"), player: $("player"),
};

let ws = null;
let voice = false;
let handsFree = false;
let pressed = false;      // push-to-talk held
let speaking = false;     // the reply is playing: do not listen to ourselves
let mic = null;           // {ctx, node, stream}
let lastAudio = "";

function setStatus(text, warn) {
  ui.status.textContent = text;
  ui.status.classList.toggle("warn", !!warn);
}

function send(obj) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
}

function scrollDown() {
  const main = document.querySelector("main");
  main.scrollTop = main.scrollHeight;
}

function addBubble(kind, text, card) {
  const div = document.createElement("div");
  div.className = "msg " + kind;
  div.textContent = text;
  if (card) div.appendChild(card);
  ui.conversation.appendChild(div);
  // Only the current exchange matters on a kiosk: keep the screen short.
  while (ui.conversation.children.length > 12) ui.conversation.removeChild(ui.conversation.firstChild);
  scrollDown();
  return div;
}

function renderCustom(custom) {
  if (!custom || !custom.type) return null;
  const card = document.createElement("div");
  card.className = "card";
  const lines = [];
  if (custom.type === "jobs") {
    for (const j of custom.items || []) {
      lines.push(`${j.title} · ${j.company} · ${[j.city, j.district].filter(Boolean).join("")} · ${j.salary_text || ""}`);
    }
  } else if (custom.type === "stations") {
    for (const s of custom.items || []) {
      const km = s.distance_km != null ? ` · ${Number(s.distance_km).toFixed(1)}公里` : "";
      lines.push(`${s.name}：${s.address} · ${s.hours || ""}${km}`);
    }
  } else if (custom.type === "policy_answer") {
    for (const c of custom.citations || []) lines.push(`依据：${c.document}${c.article ? " " + c.article : ""}`);
    if (custom.region || custom.effective) lines.push(`${custom.region || ""} ${custom.effective || ""}`.trim());
  } else if (custom.type === "handoff") {
    lines.push(`工单号：${custom.ticket_id}　服务时间：${custom.office_hours || ""}`);
  }
  if (!lines.length) return null;
  card.textContent = lines.join("\n");
  return card;
}

function setQuickReplies(buttons) {
  ui.quick.replaceChildren();
  for (const b of buttons || []) {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = b.title;
    btn.addEventListener("click", () => send({ type: "button", title: b.title, payload: b.payload }));
    ui.quick.appendChild(btn);
  }
}

function play(url) {
  if (!url) return;
  lastAudio = url;
  speaking = true;
  ui.player.src = url;
  ui.player.play().catch(() => { speaking = false; });
}
ui.player.addEventListener("ended", () => { speaking = false; });
ui.player.addEventListener("error", () => { speaking = false; });

function clearScreen() {
  ui.conversation.replaceChildren();
  ui.partial.textContent = "";
  setQuickReplies([]);
  lastAudio = "";
  ui.player.pause();
  ui.player.removeAttribute("src");
  speaking = false;
  setHandsFree(false);
}

// ---- messages from the server ------------------------------------------------------------

function onMessage(msg) {
  switch (msg.type) {
    case "ready":
      voice = !!msg.voice;
      ui.talk.disabled = !voice;
      ui.mode.disabled = !voice;
      setStatus(voice ? "请按住按钮说话" : msg.notice, !voice);
      if (!ui.conversation.children.length) {
        addBubble("bot", msg.welcome);
        setQuickReplies(msg.buttons);
      }
      break;
    case "listening":
      // The server stops listening after a long stretch without usable speech.
      if (!msg.on && handsFree && !pressed) { handsFree = false; ui.mode.setAttribute("aria-pressed", "false"); ui.talkLabel.textContent = "按住说话"; }
      ui.talk.classList.toggle("listening", msg.on);
      setStatus(msg.on ? "正在听…" : (handsFree ? "免提模式" : "请按住按钮说话"));
      break;
    case "partial":
      ui.partial.textContent = msg.text;
      break;
    case "final":
      ui.partial.textContent = msg.text + (msg.reliable ? "" : "？");
      break;
    case "prompt":
      addBubble("prompt", msg.text);
      play(msg.audio);
      break;
    case "bot":
      if (msg.repeat) {
        play(msg.audio);
        const last = ui.conversation.querySelector(".msg.bot:last-of-type");
        if (last) last.scrollIntoView();
        break;
      }
      ui.partial.textContent = "";
      if (msg.user) addBubble("user", msg.user);
      for (const m of msg.messages) {
        if (m.text || m.custom) addBubble("bot", m.text || "", renderCustom(m.custom));
      }
      setQuickReplies(msg.messages.flatMap((m) => m.buttons || []));
      play(msg.audio);
      break;
    case "reset":
      clearScreen();
      break;
    case "error":
      console.warn("kiosk:", msg.text);
      break;
  }
}

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(`${proto}//${location.host}/ws`);
  ws.binaryType = "arraybuffer";
  ws.onmessage = (e) => { try { onMessage(JSON.parse(e.data)); } catch (err) { console.error(err); } };
  ws.onclose = () => {
    setStatus("连接中断，正在重新连接…", true);
    setTimeout(connect, 2000);
  };
}

// ---- microphone --------------------------------------------------------------------------

async function ensureMic() {
  if (mic) return mic;
  // Echo cancellation keeps the kiosk's own speaker out; the browser's noise suppression and
  // gain control distort speech in ways the recogniser was not trained on (measured: they
  // turn correct transcripts of the test sentence into wrong ones), so they stay off.
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: true, noiseSuppression: false, autoGainControl: false },
  });
  let ctx;
  try {
    ctx = new AudioContext({ sampleRate: 16000 }); // the browser resamples when it can
  } catch (e) {
    ctx = new AudioContext();
  }
  await ctx.audioWorklet.addModule("/static/pcm-worklet.js");
  const source = ctx.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(ctx, "pcm-downsampler", { processorOptions: { targetRate: 16000 } });
  node.port.onmessage = (e) => {
    const listening = (pressed || handsFree) && !speaking;
    if (listening && ws && ws.readyState === WebSocket.OPEN) ws.send(e.data);
  };
  source.connect(node);
  // Keep the graph pulling without playing the microphone back.
  const sink = ctx.createGain();
  sink.gain.value = 0;
  node.connect(sink).connect(ctx.destination);
  mic = { ctx, node, stream };
  return mic;
}

async function startTalking() {
  if (!voice || pressed) return;
  pressed = true;
  ui.player.pause();
  speaking = false;
  try {
    const m = await ensureMic();
    await m.ctx.resume();
  } catch (err) {
    pressed = false;
    setStatus("无法使用麦克风，请用按钮或文字", true);
    return;
  }
  send({ type: "start" });
}

function stopTalking() {
  if (!pressed) return;
  pressed = false;
  if (mic) mic.node.port.postMessage("flush");
  // Let the flushed chunk go out before the stop command.
  setTimeout(() => send({ type: "stop" }), 50);
}

async function setHandsFree(on) {
  if (on === handsFree) return;
  handsFree = on;
  ui.mode.setAttribute("aria-pressed", String(on));
  ui.talkLabel.textContent = on ? "停止免提" : "按住说话";
  if (on) {
    try {
      const m = await ensureMic();
      await m.ctx.resume();
    } catch (err) {
      handsFree = false;
      setStatus("无法使用麦克风，请用按钮或文字", true);
      return;
    }
    send({ type: "start" });
  } else {
    send({ type: "stop" });
  }
}

ui.talk.addEventListener("pointerdown", (e) => {
  e.preventDefault();
  if (handsFree) { setHandsFree(false); return; }
  ui.talk.setPointerCapture(e.pointerId);
  startTalking();
});
for (const ev of ["pointerup", "pointercancel", "lostpointercapture"]) ui.talk.addEventListener(ev, stopTalking);
ui.talk.addEventListener("keydown", (e) => { if (e.key === " " && !e.repeat) { e.preventDefault(); startTalking(); } });
ui.talk.addEventListener("keyup", (e) => { if (e.key === " ") stopTalking(); });
ui.mode.addEventListener("click", () => setHandsFree(!handsFree));
// The server keeps the last reply (with its audio) for this session only.
ui.repeat.addEventListener("click", () => send({ type: "repeat" }));
ui.human.addEventListener("click", () => send({ type: "human" }));
ui.form.addEventListener("submit", (e) => {
  e.preventDefault();
  const text = ui.input.value.trim();
  if (text) send({ type: "text", text });
  ui.input.value = "";
});

connect();
