package main

import (
	"context"
	"path"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// npmCache is the package managers' download cache during the install.
const npmCache = "/var/cache/npm"

// frontendContainer is the frontend, from its own Dockerfile or in its
// mode, bound to the backend.
func (m *Commandcenter) frontendContainer(ctx context.Context, backend *dagger.Service) (*dagger.Container, error) {
	if m.Settings.Dockerfile.Builds(stack.Frontend) {
		img, err := m.dockerfileImage(ctx, stack.Frontend)
		if err != nil {
			return nil, err
		}
		return m.runtime(img.WithServiceBinding(string(stack.Backend), backend), stack.Frontend, m.config()), nil
	}
	entries, err := m.checkFrontend(ctx)
	if err != nil {
		return nil, err
	}
	inputs, err := m.installInputs(ctx, stack.PackageJSON, m.Settings.FrontendPath, "package.json")
	if err != nil {
		return nil, err
	}
	manifests, configs := stack.InstallFiles(entries)
	installed := m.frontendInstall(manifests, configs, inputs)
	cfg := m.config()
	var c *dagger.Container
	if cfg.Static() {
		c = m.frontendStatic(installed)
	} else {
		c = m.frontendDev(installed)
	}
	return m.runtime(c.WithServiceBinding(string(stack.Backend), backend), stack.Frontend, cfg), nil
}

// frontendInstall installs the frontend's packages as the node user from
// the manifests alone (package.json and lockfiles), so a source-only change
// re-runs no install. The package managers' configurations (.npmrc, ...)
// and --npm-token are there for the install only: they may hold tokens,
// and no later layer has them. The local packages that package.json names
// ("file:../libs/x") are copied before it too, owned by the node user,
// since npm installs their own dependencies into them.
func (m *Commandcenter) frontendInstall(manifests, configs []string, local installInputs) *dagger.Container {
	src := m.Source.Directory(m.Settings.FrontendPath)
	user := stack.User(stack.Frontend)
	c := m.base(m.Settings.Images.Node).
		With(withScripts("frontend-install")).
		WithDirectory(stack.AppDir, dag.Directory(), dagger.ContainerWithDirectoryOpts{Owner: user})
	// File by file: a directory copy, even filtered, keys the install on the
	// whole frontend directory in Dagger v0.21.
	for _, name := range manifests {
		c = c.WithFile(stack.AppDir+"/"+name, src.File(name), dagger.ContainerWithFileOpts{Owner: user})
	}
	local.manifests = nil // package.json is among manifests
	c = c.With(m.withInstallInputs(local, user))
	for _, name := range configs {
		c = c.WithMountedFile(stack.AppDir+"/"+name, src.File(name), dagger.ContainerWithMountedFileOpts{Owner: user})
	}
	c = c.WithUser(user).
		WithWorkdir(stack.AppDir).
		With(withVolume(npmCache, "commandcenter-npm", user)).
		With(withSecretVariable("NPM_TOKEN", m.NpmToken)).
		WithExec([]string{stack.Script("frontend-install"), npmCache}).
		WithoutSecretVariable("NPM_TOKEN").
		WithoutMount(npmCache)
	for _, name := range configs {
		c = c.WithoutMount(stack.AppDir + "/" + name)
	}
	return c
}

// withFrontendSource copies the frontend's source over the installed
// packages, without node_modules or the package managers' configurations.
func (m *Commandcenter) withFrontendSource(c *dagger.Container) *dagger.Container {
	return c.WithDirectory(stack.AppDir, m.Source.Directory(m.Settings.FrontendPath), dagger.ContainerWithDirectoryOpts{
		Exclude: append([]string{"node_modules"}, stack.PackageManagerConfigs...),
		Owner:   stack.User(stack.Frontend),
	})
}

// frontendDev serves the source with the Vite dev server (or
// --frontend-command), through the module's Vite configuration. Its
// directory belongs to the node user: Vite writes its bundled config
// beside it.
func (m *Commandcenter) frontendDev(installed *dagger.Container) *dagger.Container {
	config := dag.Directory().WithNewFile(path.Base(stack.ViteConfig), stack.ViteConfigSource)
	return installed.With(m.withFrontendSource).
		WithDirectory(path.Join(stack.AppDir, path.Dir(stack.ViteConfig)), config,
			dagger.ContainerWithDirectoryOpts{Owner: stack.User(stack.Frontend)})
}

// frontendStatic builds the app with npm run build, VITE_* variables set,
// and serves its dist/ with nginx.
func (m *Commandcenter) frontendStatic(installed *dagger.Container) *dagger.Container {
	build := installed.With(m.withFrontendSource).With(withEnv(m.config().FrontendBuildEnv()))
	dist := build.WithExec([]string{"npm", "run", "build"}).Directory(stack.AppDir + "/dist")
	return m.base(m.Settings.Images.Proxy).
		WithNewFile("/etc/nginx/nginx.conf", stack.StaticSiteConfig()).
		WithDirectory(stack.StaticDir, dist)
}
