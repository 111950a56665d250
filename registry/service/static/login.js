// Sign in: POST /api/session as JSON (the only kind of body the service takes), then the review page.
"use strict";
const form = document.querySelector("#signin");
const message = document.querySelector("#message");
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  message.textContent = ""; message.className = "";
  const body = { name: document.querySelector("#name").value.trim(), password: document.querySelector("#password").value };
  try {
    const res = await fetch("/api/session", { method: "POST", headers: { "Content-Type": "application/json" },
                                             body: JSON.stringify(body), credentials: "same-origin" });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || (typeof data.detail === "string" ? data.detail : res.statusText));
    window.location.assign("/");
  } catch (e) { message.textContent = e.message; message.className = "error"; }
});
