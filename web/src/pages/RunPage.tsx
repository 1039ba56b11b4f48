import { AlertTriangle } from "lucide-react";
import { useState } from "react";
import { useNavigate, useParams } from "react-router";
import { ApprovalCard } from "../components/ApprovalCard";
import { ArtifactList } from "../components/ArtifactList";
import { BudgetResume, stoppedAtBudget } from "../components/BudgetResume";
import { RetryStepDialog } from "../components/RetryStepDialog";
import { RunDetails, RunEvents } from "../components/RunDetails";
import { RunHeader } from "../components/RunHeader";
import { ErrorState, Loading } from "../components/States";
import { StepPanel } from "../components/StepPanel";
import { Timeline } from "../components/Timeline";
import { WaitingBanner } from "../components/WaitingBanner";
import { useRunPage } from "../hooks/useRunPage";

export function RunPage() {
  const { runId = "" } = useParams();
  const navigate = useNavigate();
  const [selectedKey, setSelectedKey] = useState<string | null>(null);
  // The step whose Retry from here awaits confirmation.
  const [retryKey, setRetryKey] = useState<string | null>(null);
  const { run, artifacts, logs, diff, selectedStep, project } = useRunPage(runId, selectedKey);

  if (run.isPending) return <Loading label="Loading run…" />;
  if (run.isError) return <ErrorState error={run.error} onRetry={() => run.refetch()} />;
  const data = run.data;

  return (
    <div className="page">
      <RunHeader
        run={data}
        projectName={project?.name ?? null}
        onDeleted={() => navigate(`/projects/${data.project_id}`)}
      />
      {data.error_message && (
        <div className="alert" role="alert">
          <AlertTriangle size={16} aria-hidden />
          <pre>{data.error_message}</pre>
        </div>
      )}
      {stoppedAtBudget(data) && <BudgetResume run={data} />}
      <ApprovalCard run={data} />
      <WaitingBanner run={data} />
      <div className="run-layout">
        <section className="card" aria-label="Timeline">
          <div className="card-header">
            <h2>Timeline</h2>
            <span className="muted">{data.steps.length} steps</span>
          </div>
          <Timeline
            run={data}
            steps={data.steps}
            events={data.events}
            currentPhase={data.current_phase}
            selectedKey={selectedKey}
            onSelect={(key) => setSelectedKey(key === selectedKey ? null : key)}
            onRetryFrom={setRetryKey}
          />
        </section>
        {selectedStep ? (
          <StepPanel
            run={data}
            step={selectedStep}
            logs={logs}
            diff={diff}
            onClose={() => setSelectedKey(null)}
          />
        ) : (
          <section className="card">
            <div className="state">Select a step to see its output and logs.</div>
          </section>
        )}
      </div>
      <ArtifactList runId={data.id} artifacts={artifacts} />
      <div className="two-columns">
        <RunDetails run={data} />
        <RunEvents run={data} />
      </div>
      <RetryStepDialog runId={data.id} stepKey={retryKey} onClose={() => setRetryKey(null)} />
    </div>
  );
}
