// Systemic monitoring's signals beside a case on the committee page (DESIGN §10b): context,
// never evidence. Each signal of the case's office and day with its state, silent span,
// expected and counted transactions, confidence, the server's Persian reason, and what a
// field report made of it. `no_data` signals say nothing and are not shown.
"use strict";

const SIGNAL_STATE = { suspected_closure: "احتمال تعطیلی", normal: "خدمت‌دهی عادی", outage: "قطعی سامانه",
  no_data: "بدون داده" };
const SIGNAL_EVENT = { ...SIGNAL_STATE, confirmed: "تأیید با بازدید میدانی", cleared: "رد با بازدید میدانی",
  field_withdrawn: "گزارش میدانی دیگر چیزی نمی‌گوید", withdrawn: "این بازه دیگر موظف نیست" };
const signalClock = new Intl.DateTimeFormat("fa-IR", { timeZone: "Asia/Tehran", hour: "2-digit", minute: "2-digit",
  hourCycle: "h23" });

function silentSpan(s) {
  if (!s.silent_from) return "—";
  return `از ${signalClock.format(new Date(s.silent_from))} تا ${signalClock.format(new Date(s.silent_to))}`;
}

function confidenceText(c) {
  // Floored, and never a certainty: a confidence the server rounded to 1 reads "over 99.99%".
  if (c == null) return "—";
  if (c >= 0.9999) return "بیش از ۹۹٫۹۹٪";
  return `${faNumber((Math.floor(c * 10000) / 100).toFixed(2))}٪`;
}

function fieldText(field) {
  if (!field) return "هنوز گزارش میدانی‌ای از این دفتر در این روز نیست";
  const found = `دفتر ${state(field.office_state)} یافت شد، ${jalaliTime(field.evidence_time)}`;
  if (field.status === "confirmed") return `تأیید شد: ${found}`;
  if (field.status === "cleared") return `رد شد: ${found}`;
  return found;
}

function signalBox(s) {
  const box = el("div", undefined, `signal ${s.state}`);
  box.dataset.state = s.state;
  const window_ = s.window.split("–").map(faDigits).join(" تا "); // read right to left, as the findings' hours
  box.appendChild(el("h4", `بازه موظف ${window_} — ${SIGNAL_STATE[s.state] || s.state}`));
  const dl = document.createElement("dl");
  const row = (term, value) => { dl.appendChild(el("dt", term)); dl.appendChild(el("dd", value)); };
  row("سکوت در سامانه", silentSpan(s));
  row("تراکنش‌ها", `حدود ${faDigits(Math.round(s.expected))} انتظار می‌رفت، ${faDigits(s.observed)} ثبت شد`);
  row("اطمینان", confidenceText(s.confidence));
  row("توضیح", s.reason);
  row("بازدید میدانی", fieldText(s.field));
  box.appendChild(dl);
  if (s.history.length) {
    box.appendChild(el("ol", undefined, "signal-history"))
      .replaceChildren(...s.history.map((e) => el("li", `${jalaliTime(e.at)} — ${SIGNAL_EVENT[e.kind] || e.kind}`)));
  }
  return box;
}

// The block for a case: hidden when no signal says anything.
function showSignals(section, list, signals) {
  const said = (signals || []).filter((s) => s.state !== "no_data");
  list.replaceChildren(...said.map(signalBox));
  section.hidden = said.length === 0;
}
