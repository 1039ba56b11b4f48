/** Download a run's artifact through the API client (with the token) and save it. */
import { useMutation } from "@tanstack/react-query";
import { toast } from "sonner";
import { errorMessage } from "../api/client";
import { calls } from "../api/queries";
import type { Artifact } from "../api/types";
import { saveFile } from "../lib/saveFile";

export function useArtifactDownload(runId: string) {
  return useMutation({
    mutationFn: async (artifact: Artifact) => {
      const blob = await calls.downloadArtifact(runId, artifact.id);
      saveFile(blob, artifact.name);
    },
    onError: (error: unknown) => {
      toast.error(errorMessage(error));
    },
  });
}
