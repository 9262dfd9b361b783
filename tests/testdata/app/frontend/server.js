// Dependency-free stand-in for the CommandCenter frontend (a Vite dev server
// in the real app), for the module's engine tests. It serves a page on $PORT
// (3000) that names the API URL it was given and the uid it runs as.
const http = require("http");

const port = Number(process.env.PORT || 3000);
const page = () => `<!doctype html>
<title>CommandCenter fixture</title>
<h1>CommandCenter fixture frontend</h1>
<p id="api">${process.env.VITE_API_BASE_URL || ""}</p>
<p id="uid">uid=${process.getuid()}</p>
`;

const server = http.createServer((req, res) => {
  res.writeHead(req.url === "/" ? 200 : 404, { "Content-Type": "text/html" });
  res.end(req.url === "/" ? page() : "not found\n");
});

server.listen(port, "0.0.0.0", () => {
  console.log(`fixture frontend listening on :${port} at ${(Date.now() / 1000).toFixed(3)}`);
});

process.on("SIGTERM", () => server.close(() => process.exit(0)));
