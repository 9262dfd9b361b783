// Dependency-free stand-in for `vite build`, for the static mode's engine
// test: it writes dist/index.html, naming the API URL compiled into it, and
// a hashed asset under dist/assets/, as Vite lays them out.
const fs = require("fs");

const api = process.env.VITE_API_BASE_URL || "";
const asset = "app-" + require("crypto").createHash("sha256").update(api).digest("hex").slice(0, 8) + ".js";
fs.mkdirSync("dist/assets", { recursive: true });
fs.writeFileSync("dist/assets/" + asset, `console.log(${JSON.stringify(api)});\n`);
fs.writeFileSync("dist/index.html", `<!doctype html>
<title>CommandCenter fixture</title>
<h1>CommandCenter fixture build</h1>
<p id="api">${api}</p>
<p id="title">${process.env.VITE_TITLE || ""}</p>
<script src="/assets/${asset}"></script>
`);
console.log("built dist/index.html and dist/assets/" + asset);
