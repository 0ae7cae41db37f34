/**
 * Open-set identification figures, pure: from each probe's decision and score, the
 * identification rate and stranger false-accept rate at the default decision, and the curve
 * (identification at the score threshold that accepts at most a given share of strangers).
 *
 * A probe without a usable face is never dropped: a known probe without one is not identified,
 * and a stranger without one counts against the false-accept rate (the benchmark could not show
 * that it would be rejected), so coverage failures can only make the figures worse.
 */

export interface ProbeOutcome {
  /** Who the probe is (a gallery name for known probes, anything for strangers). */
  truth: string;
  known: boolean;
  /** False when no usable face was found (or the image could not be read). */
  usable: boolean;
  /** The nearest enrolled person, whatever the score. */
  nearest: string | null;
  /** The decision's score: the lower, the more the probe looks like `nearest` (a distance, or a
   * normalized distance). Null without a usable face. */
  score: number | null;
  /** The name the default decision gives (a gallery name or Unknown). */
  decided: string;
}

export interface CurvePoint {
  targetFar: number;
  /** Highest score threshold whose stranger false-accept rate is <= targetFar. */
  threshold: number;
  far: number;
  identificationRate: number;
}

export interface OpenSetFigures {
  known: { total: number; usable: number; namedRight: number; namedWrong: number; unknown: number };
  strangers: { total: number; usable: number; accepted: number };
  identificationRate: number;
  strangerFalseAcceptRate: number;
  /** Known probes whose nearest enrolled person is right, whatever the score (rank-1 closed set). */
  rank1: number;
  curve: CurvePoint[];
}

export function openSetFigures(outcomes: ProbeOutcome[], targetFars = [0.01, 0.001]): OpenSetFigures {
  const known = outcomes.filter((o) => o.known);
  const strangers = outcomes.filter((o) => !o.known);
  const namedRight = known.filter((o) => o.usable && o.decided === o.truth).length;
  const unknown = known.filter((o) => !o.usable || o.decided === 'Unknown').length;
  const strangersAccepted = strangers.filter((o) => !o.usable || o.decided !== 'Unknown').length;
  const curve = targetFars.map((far) => curvePoint(known, strangers, far));
  return {
    known: {
      total: known.length,
      usable: known.filter((o) => o.usable).length,
      namedRight,
      namedWrong: known.length - namedRight - unknown,
      unknown,
    },
    strangers: {
      total: strangers.length,
      usable: strangers.filter((o) => o.usable).length,
      accepted: strangersAccepted,
    },
    identificationRate: known.length ? namedRight / known.length : NaN,
    strangerFalseAcceptRate: strangers.length ? strangersAccepted / strangers.length : NaN,
    rank1: known.length ? known.filter((o) => o.usable && o.nearest === o.truth).length / known.length : NaN,
    curve,
  };
}

/**
 * The identification rate at the highest threshold that accepts at most `targetFar` of the
 * strangers. Strangers without a face count as accepted at every threshold.
 */
export function curvePoint(known: ProbeOutcome[], strangers: ProbeOutcome[], targetFar: number): CurvePoint {
  const always = strangers.filter((o) => !o.usable || o.score === null).length;
  const scores = strangers
    .filter((o) => o.usable && o.score !== null)
    .map((o) => o.score!)
    .sort((a, b) => a - b);
  const allowed = Math.floor(targetFar * strangers.length + 1e-9) - always;
  // Accept scores strictly below the (allowed+1)-th smallest stranger score.
  let threshold: number;
  if (allowed < 0) threshold = -Infinity;
  else if (allowed >= scores.length) threshold = Infinity;
  else threshold = scores[allowed] - 1e-9;
  const accepted = always + scores.filter((s) => s <= threshold).length;
  const right = known.filter(
    (o) => o.usable && o.score !== null && o.nearest === o.truth && o.score <= threshold,
  ).length;
  return {
    targetFar,
    threshold,
    far: strangers.length ? accepted / strangers.length : NaN,
    identificationRate: known.length ? right / known.length : NaN,
  };
}
