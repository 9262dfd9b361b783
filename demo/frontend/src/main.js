// Asks the demo backend for its greeting and shows it. The backend's URL, as
// the browser reaches it, is VITE_API_BASE_URL (set by the commandcenter module).
import "./style.css";

const api = import.meta.env.VITE_API_BASE_URL ?? "http://localhost:8000";
const show = (id, text) => {
  document.getElementById(id).textContent = text;
};

async function greet() {
  const response = await fetch(`${api}/api/hello`);
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}`);
  }
  const hello = await response.json();
  show("message", hello.message);
  show("project", hello.project);
  show("visits", String(hello.visits));
}

show("api", api);
greet().catch((error) => {
  const message = document.getElementById("message");
  message.classList.add("error");
  message.textContent = `The backend at ${api} is unreachable: ${error.message}`;
});
