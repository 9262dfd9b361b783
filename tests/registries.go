package main

import (
	"context"
	"fmt"
	"strings"

	"dagger/tests/internal/dagger"
)

// Private package registries, served by the tests themselves: the only
// registries the installs can reach, with packages no public registry has.

// registryServer serves /srv on port 8080, answering only requests that
// carry the header Authorization: $AUTH (a secret of the test).
const registryServer = `import functools, http.server, os
class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Authorization") != os.environ["AUTH"]:
            self.send_error(401, "wrong or missing credentials")
            return
        super().do_GET()
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), functools.partial(Handler, directory="/srv")).serve_forever()`

// registry starts a server of dir that wants the given Authorization
// header, and returns its address: the module's build containers reach it
// there, as they would a registry on the network.
func registry(ctx context.Context, name string, dir *dagger.Directory, auth *dagger.Secret) (*dagger.Service, string, error) {
	svc := dag.Container().From(pythonImage).
		WithDirectory("/srv", dir).
		WithSecretVariable("AUTH", auth).
		WithExposedPort(8080).
		AsService(dagger.ContainerAsServiceOpts{Args: []string{"python3", "-c", registryServer}})
	if _, err := svc.Start(ctx); err != nil {
		return nil, "", fmt.Errorf("start the %s registry: %w", name, err)
	}
	ip, err := dag.Container().From(pythonImage).
		WithServiceBinding(name, svc).
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"python3", "-c", "import socket, sys; print(socket.gethostbyname(sys.argv[1]))", name}).
		Stdout(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("address of the %s registry: %w", name, explain(err))
	}
	return svc, strings.TrimSpace(ip) + ":8080", nil
}

// npmPackage builds a scoped package tarball, served where a registry
// serves it, and a frontend whose lockfile pins it by its integrity.
const npmPackage = `set -e
mkdir -p /pkg /srv/@commandcenter-tests/fixture-dep/- /app
cd /pkg
printf '{"name":"@commandcenter-tests/fixture-dep","version":"1.0.0","main":"index.js"}' > package.json
echo 'module.exports = "from the private registry";' > index.js
npm pack --pack-destination /srv/@commandcenter-tests/fixture-dep/- >/dev/null
cd /app
node -e '
const fs = require("fs"), crypto = require("crypto");
const tgz = "/srv/@commandcenter-tests/fixture-dep/-/commandcenter-tests-fixture-dep-1.0.0.tgz";
const integrity = "sha512-" + crypto.createHash("sha512").update(fs.readFileSync(tgz)).digest("base64");
const app = { name: "commandcenter-fixture-frontend", version: "1.0.0", private: true,
  scripts: { dev: "node server.js" }, dependencies: { "@commandcenter-tests/fixture-dep": "1.0.0" } };
fs.writeFileSync("package.json", JSON.stringify(app, null, 2));
fs.writeFileSync("package-lock.json", JSON.stringify({ name: app.name, version: app.version, lockfileVersion: 3, requires: true,
  packages: { "": { name: app.name, version: app.version, dependencies: app.dependencies },
    "node_modules/@commandcenter-tests/fixture-dep": { version: "1.0.0", integrity,
      resolved: "https://registry.npmjs.org/@commandcenter-tests/fixture-dep/-/fixture-dep-1.0.0.tgz" } } }, null, 2));'
mv /srv/@commandcenter-tests/fixture-dep/-/commandcenter-tests-fixture-dep-1.0.0.tgz /srv/@commandcenter-tests/fixture-dep/-/fixture-dep-1.0.0.tgz`

// A frontend whose .npmrc names a private registry and a token installs from it, and neither the .npmrc nor the token is left in the image.
//
// +check
func (m *Tests) NpmrcAndTokenReachTheInstall(ctx context.Context) error {
	token := "npm-token-" + nonce()
	made := dag.Container().From(nodeImage).WithExec([]string{"sh", "-c", npmPackage})
	reg, addr, err := registry(ctx, "npm", made.Directory("/srv"), dag.SetSecret("npm-registry-auth", "Bearer "+token))
	if err != nil {
		return err
	}
	defer reg.Stop(ctx)
	frontend := dag.CurrentModule().Source().Directory("testdata/app/frontend").
		WithFile("package.json", made.File("/app/package.json")).
		WithFile("package-lock.json", made.File("/app/package-lock.json")).
		WithNewFile(".npmrc", "registry=http://"+addr+"/\n//"+addr+"/:_authToken=${NPM_TOKEN}\n")
	opts := withPasswords(fixture("private-npm"))
	opts.Source = dag.CurrentModule().Source().Directory("testdata/app").WithDirectory("frontend", frontend)
	opts.NpmToken = dag.SetSecret("npm-token", token)
	ctr := dag.Commandcenter(opts).Container("frontend")
	got, err := ctr.File("/app/node_modules/@commandcenter-tests/fixture-dep/index.js").Contents(ctx)
	if err != nil || !strings.Contains(got, "from the private registry") {
		return fmt.Errorf("the private package: wanted it installed, got %q (%v)", got, err)
	}
	if entries, err := ctr.Directory("/app").Entries(ctx); err != nil || strings.Contains(strings.Join(entries, " "), ".npmrc") {
		return fmt.Errorf("the frontend image: wanted no .npmrc, got %v (%v)", entries, err)
	}
	return noValueInEnv(ctx, ctr, "NPM_TOKEN", token)
}

// pipIndex builds a wheel and a PEP 503 index of it.
const pipIndex = `import base64, hashlib, os, zipfile
name, version = "commandcenter_tests_fixture", "1.0"
wheel = "%s-%s-py3-none-any.whl" % (name, version)
info = "%s-%s.dist-info" % (name, version)
files = {
    "commandcenter_tests_fixture.py": "VALUE = 'from the private index'\n",
    info + "/METADATA": "Metadata-Version: 2.1\nName: commandcenter-tests-fixture\nVersion: 1.0\n",
    info + "/WHEEL": "Wheel-Version: 1.0\nGenerator: commandcenter-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
os.makedirs("/srv/packages")
with zipfile.ZipFile("/srv/packages/" + wheel, "w") as z:
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
        z.writestr(path, data)
    z.writestr(info + "/RECORD", "\n".join(record + [info + "/RECORD,,"]) + "\n")
sha = hashlib.sha256(open("/srv/packages/" + wheel, "rb").read()).hexdigest()
os.makedirs("/srv/simple/commandcenter-tests-fixture")
with open("/srv/simple/commandcenter-tests-fixture/index.html", "w") as f:
    f.write('<!DOCTYPE html><html><body><a href="/packages/%s#sha256=%s">%s</a></body></html>\n' % (wheel, sha, wheel))`

// A backend installs from the private index named by --pip-index-url, with the credentials in its URL, and the URL is left in no variable of the image.
//
// +check
func (m *Tests) PrivateIndexReachesTheInstall(ctx context.Context) error {
	password := "pip-pw-" + nonce()
	index := dag.Container().From(pythonImage).WithExec([]string{"python3", "-c", pipIndex}).Directory("/srv")
	auth := dag.SetSecret("pip-index-auth", "Basic "+basicAuth("reader", password))
	reg, addr, err := registry(ctx, "pypi", index, auth)
	if err != nil {
		return err
	}
	defer reg.Stop(ctx)
	url := "http://reader:" + password + "@" + addr + "/simple/"
	opts := withPasswords(fixture("private-pip"))
	opts.Source = dag.CurrentModule().Source().Directory("testdata/app").
		WithNewFile("backend/requirements.txt", "commandcenter-tests-fixture==1.0\n")
	opts.PipIndexURL = dag.SetSecret("pip-index-url", url)
	ctr := dag.Commandcenter(opts).Container("backend")
	found, err := ctr.Directory("/opt/venv/lib").Glob(ctx, "*/site-packages/commandcenter_tests_fixture.py")
	if err != nil || len(found) != 1 {
		return fmt.Errorf("the private package: wanted it installed in /opt/venv, got %v (%v)", found, err)
	}
	return noValueInEnv(ctx, ctr, "PIP_INDEX_URL", password)
}

// noValueInEnv fails if the container's definition has the variable name,
// or any variable holding value.
func noValueInEnv(ctx context.Context, ctr *dagger.Container, name, value string) error {
	env, err := envOf(ctx, ctr)
	if err != nil {
		return fmt.Errorf("the image's environment: %w", err)
	}
	for _, e := range env {
		n, v := e[0], e[1]
		if n == name || strings.Contains(v, value) {
			return fmt.Errorf("the image's environment: wanted no %s and no value of it, got it in %s", name, n)
		}
	}
	return nil
}
