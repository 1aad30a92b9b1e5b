// Small DOM helpers of the inspector's app. Text always goes in as text (never innerHTML):
// everything shown is data, some of it typed by people.

// h("button", {class: "big", onclick}, "text", child, …)
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (id) => document.getElementById(id);

let toastTimer = null;
export function toast(text, kind = "info") {
  const box = $("toast");
  box.textContent = text;
  box.className = `toast ${kind}`;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
}

// A yes/no question in the app's own dialog (window.confirm is blocked in an installed
// app on some phones, and cannot be styled RTL).
export function ask(question, { yes = "بله", no = "انصراف", danger = false } = {}) {
  const dialog = $("ask");
  $("ask-text").textContent = question;
  $("ask-yes").textContent = yes;
  $("ask-no").textContent = no;
  $("ask-yes").className = danger ? "danger" : "primary";
  dialog.showModal();
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.close();
      $("ask-yes").onclick = null;
      $("ask-no").onclick = null;
      resolve(answer);
    };
    $("ask-yes").onclick = () => done(true);
    $("ask-no").onclick = () => done(false);
    dialog.oncancel = (event) => { event.preventDefault(); done(false); };
  });
}
