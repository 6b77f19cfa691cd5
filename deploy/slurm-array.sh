#!/usr/bin/env bash
# A sharded clipsim sweep as a Slurm job array: task I of N runs `--shard I/N` (the points whose
# index is I modulo N) into its own directory; a dependent job merges the shards.
#
#   mkdir -p logs
#   jobid=$(sbatch --parsable deploy/slurm-array.sh)
#   sbatch --dependency=afterok:"$jobid" --output=logs/merge-%j.out \
#          --wrap 'clipsim merge results/seed-thresholds/shard-* --out results/seed-thresholds/merged'
#
# Run from the repository root with clipsim on the PATH (cargo install --path .). Set SWEEP
# and OUT to sweep another file: `sbatch --export=ALL,SWEEP=my.toml,OUT=results/my deploy/...`.
# A task that is preempted or times out gets SIGTERM, keeps its finished points and, requeued
# (or resubmitted with --array=I), resumes from them.
#
#SBATCH --job-name=clipsim-sweep
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=01:00:00
#SBATCH --requeue
#SBATCH --output=logs/%x-%A_%a.out
set -euo pipefail

sweep=${SWEEP:-scenarios/sweeps/seed-thresholds.toml}
out=${OUT:-results/seed-thresholds}
# The array may start anywhere (--array=1-8): shards count from its first task.
i=$(( SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0} ))
n=${SLURM_ARRAY_TASK_COUNT:?run this as a job array: sbatch deploy/slurm-array.sh}

exec clipsim sweep "$sweep" --out "$out/shard-$i" --shard "$i/$n" --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet
