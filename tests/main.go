// Engine tests of the commandcenter module: each test calls the module's
// functions through a real Dagger engine and checks what the engine shows
// (a query answered, a port served, a uid seen).
//
// The fixture app in testdata/app needs nothing from PyPI or npm, so the
// suite also runs without internet.
package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"dagger/tests/internal/verdict"
)

type Tests struct{}

// test is one entry of the suite.
type test struct {
	name string
	run  func(context.Context) error
}

// suite lists every test; All runs exactly these. A unit test in
// internal/keepinstep fails when a test function is missing here.
func (m *Tests) suite() []test {
	return []test{
		{"PostgresAnswersWithPassword", m.PostgresAnswersWithPassword},
		{"AppRoleIsNotSuperuser", m.AppRoleIsNotSuperuser},
		{"UnknownExtensionFailsFast", m.UnknownExtensionFailsFast},
		{"RedisAnswersPing", m.RedisAnswersPing},
		{"BackendReachesPostgresAndRedis", m.BackendReachesPostgresAndRedis},
		{"FrontendServesPage", m.FrontendServesPage},
		{"ServicesRunAsDocumentedUsers", m.ServicesRunAsDocumentedUsers},
		{"StackServesAllPorts", m.StackServesAllPorts},
		{"RestartFromElsewhereIsInPlace", m.RestartFromElsewhereIsInPlace},
		{"StopFromElsewhereStopsTheStack", m.StopFromElsewhereStopsTheStack},
		{"StopWithNothingRunningSaysSo", m.StopWithNothingRunningSaysSo},
		{"RedisKeepsWritesAcrossKill", m.RedisKeepsWritesAcrossKill},
		{"NewDatabaseIsNeverSilent", m.NewDatabaseIsNeverSilent},
		{"RetryRecoversFromFailedStarts", m.RetryRecoversFromFailedStarts},
		{"RetryGivesUpWithLastStderr", m.RetryGivesUpWithLastStderr},
		{"BadInputsFailAtOnce", m.BadInputsFailAtOnce},
		{"MissingPackageManagerIsNamed", m.MissingPackageManagerIsNamed},
		{"SecretsStayOutOfEnvArgvAndOutput", m.SecretsStayOutOfEnvArgvAndOutput},
		{"GeneratedSecretsSurviveStopAndStart", m.GeneratedSecretsSurviveStopAndStart},
		{"LogsHoldReadyLineAndHonourTail", m.LogsHoldReadyLineAndHonourTail},
		{"HealthReportsStoppedService", m.HealthReportsStoppedService},
		{"ProjectsAreIsolated", m.ProjectsAreIsolated},
		{"SecondServerIsRefused", m.SecondServerIsRefused},
		{"HardKillKeepsCommittedRows", m.HardKillKeepsCommittedRows},
		{"BackupRestoreRoundTrip", m.BackupRestoreRoundTrip},
		{"RestoreRejectsBadDump", m.RestoreRejectsBadDump},
		{"ResetStartsAfresh", m.ResetStartsAfresh},
		{"MajorSwitchNamesTheMigration", m.MajorSwitchNamesTheMigration},
		{"GeneratedCredentialsGuardRedis", m.GeneratedCredentialsGuardRedis},
		{"ProjectsStartTogether", m.ProjectsStartTogether},
		{"AppConfigurationReachesTheBackend", m.AppConfigurationReachesTheBackend},
		{"FailingMigrationStopsTheStart", m.FailingMigrationStopsTheStart},
		{"ConsumersBindUnderAnyAlias", m.ConsumersBindUnderAnyAlias},
		{"StaticFrontendServesTheBuild", m.StaticFrontendServesTheBuild},
		{"NpmrcAndTokenReachTheInstall", m.NpmrcAndTokenReachTheInstall},
		{"PrivateIndexReachesTheInstall", m.PrivateIndexReachesTheInstall},
		{"DemoServesTheWholeStack", m.DemoServesTheWholeStack},
		{"StoreDrillRestoresEverything", m.StoreDrillRestoresEverything},
		{"StorePointInTimeRestore", m.StorePointInTimeRestore},
		{"StoreBadInputFailsFast", m.StoreBadInputFailsFast},
		{"StoreLeaseKeepsEnginesApart", m.StoreLeaseKeepsEnginesApart},
		{"StoreOutageIsReportedAndCaughtUp", m.StoreOutageIsReportedAndCaughtUp},
		{"WorkersRunQueuedAndScheduledTasks", m.WorkersRunQueuedAndScheduledTasks},
		{"LocalLibraryInstallsOnItsContent", m.LocalLibraryInstallsOnItsContent},
		{"FailingWorkerFailsTheStart", m.FailingWorkerFailsTheStart},
		{"BackendInstallFailureIsReportedOnce", m.BackendInstallFailureIsReportedOnce},
		{"SystemPackagesReachTheBackend", m.SystemPackagesReachTheBackend},
		{"SecretsStayOutOfFilesErrorsAndStatus", m.SecretsStayOutOfFilesErrorsAndStatus},
		{"StartWaitsForStoppingInstance", m.StartWaitsForStoppingInstance},
		{"InterruptedInitdbStartsOver", m.InterruptedInitdbStartsOver},
		{"DumpFailingHalfWayChangesNothing", m.DumpFailingHalfWayChangesNothing},
		{"StoreRestoreToLatest", m.StoreRestoreToLatest},
		{"StoreLostLeaseStopsTheServer", m.StoreLostLeaseStopsTheServer},
		{"StoreWithoutConditionalWritesIsRefused", m.StoreWithoutConditionalWritesIsRefused},
		{"StoreBadCertificateNamesStoreCA", m.StoreBadCertificateNamesStoreCA},
		{"StoreArchivesWithin60Seconds", m.StoreArchivesWithin60Seconds},
		{"StoreResetDeletesTheStoreCopy", m.StoreResetDeletesTheStoreCopy},
		{"StoreIsEncrypted", m.StoreIsEncrypted},
		{"FamilySwitchKeepsRowsAndIndex", m.FamilySwitchKeepsRowsAndIndex},
		{"OldSuperuserProjectIsConverted", m.OldSuperuserProjectIsConverted},
		{"BackendBuildsFromItsDockerfile", m.BackendBuildsFromItsDockerfile},
		{"FrontendBuildsFromItsDockerfile", m.FrontendBuildsFromItsDockerfile},
		{"BuildSecretsStayOutOfTheImage", m.BuildSecretsStayOutOfTheImage},
		{"StoreKilledFirstSessionKeepsEveryRow", m.StoreKilledFirstSessionKeepsEveryRow},
		{"StoreLeaseWaitsForTheHoldersLifetime", m.StoreLeaseWaitsForTheHoldersLifetime},
		{"StoreIgnoringIfMatchIsRefused", m.StoreIgnoringIfMatchIsRefused},
		{"StorePointInTimeBeforeTheLatestBackup", m.StorePointInTimeBeforeTheLatestBackup},
		{"StoreTargetAfterTheLastCommitIsRefused", m.StoreTargetAfterTheLastCommitIsRefused},
		{"StoreStopWhileTheStoreIsDownLosesNoWrite", m.StoreStopWhileTheStoreIsDownLosesNoWrite},
		{"StoreLeaseRenewedDuringSlowRestore", m.StoreLeaseRenewedDuringSlowRestore},
	}
}

// allParallel bounds how many tests run at once. Every test starts a stack
// of its own; thirty at once on a 2-core engine made the tests' time bounds
// (a refusal within a minute, a probe within 60 s) measure the queue.
const allParallel = 6

// Run every test concurrently, six at a time, and report each as PASS, FAIL or SKIP (with the reason), then the counts.
//
// A skipped test is not a pass: All fails when a test fails or skips,
// unless --allow-skips is given, and then still lists every skip and why.
// It stops the shared project at the end, so the session ends with nothing
// running.
func (m *Tests) All(
	ctx context.Context,
	// Succeed when tests skip for a missing precondition (an image or a
	// mirror the engine cannot reach), as long as none fails.
	// +optional
	allowSkips bool,
) (string, error) {
	tests := m.suite()
	results := make([]error, len(tests))
	slots := make(chan struct{}, allParallel)
	var wg sync.WaitGroup
	for i, t := range tests {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			results[i] = runOne(ctx, t)
		})
	}
	wg.Wait()
	names := make([]string, len(tests))
	for i, t := range tests {
		names[i] = t.name
	}
	report := verdict.New(names, results)
	if err := stop(ctx, dag.Commandcenter(withPasswords(fixture(shared)))); err != nil {
		report.Add("StopTheSharedProject", err)
	}
	return report.String(), report.Verdict(allowSkips)
}

// runOne runs t, turning a panic into its failure so that one test cannot
// end the run.
func runOne(ctx context.Context, t test) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return t.run(ctx)
}

// skip says that test cannot run here, and why, as an error that All
// reports as SKIP and that fails a test run alone: return it. Only a
// missing precondition (an image, a mirror) skips a test.
func skip(test, reason string) error {
	fmt.Fprintf(os.Stderr, "SKIP %s: %s\n", test, reason)
	return &verdict.Skip{Reason: reason}
}
