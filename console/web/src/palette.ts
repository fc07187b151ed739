import type { CongestionLevel } from '@cityflow/protocol/congestion';

/**
 * Colour-blind-safe levels (ColorBrewer RdYlBu, rated safe for the common colour vision deficiencies):
 * blue = fluid, yellow = slow, red-orange = congested, grey = no data. Luminance also differs, and
 * congested roads are drawn wider, so the levels survive a greyscale wall screen too.
 */
export const LEVEL_COLOURS: Record<CongestionLevel, string> = {
  free: '#4f9fd6',
  slow: '#fee090',
  jam: '#f46d43',
  none: '#7b8290',
};
export const LEVEL_WIDTH: Record<CongestionLevel, number> = { free: 3, slow: 3.5, jam: 5, none: 2.5 };
/** Numeric codes for MapLibre feature-state (expressions match numbers fastest). */
export const LEVEL_CODE: Record<CongestionLevel, number> = { free: 0, slow: 1, jam: 2, none: 3 };
export const CODE_LEVEL: CongestionLevel[] = ['free', 'slow', 'jam', 'none'];
export const AGENT_ONLINE_COLOUR = '#4f9fd6';
export const AGENT_OFFLINE_COLOUR = '#d94fd0';
export const PATH_COLOUR = '#b8f2e6';
/** The keyboard focus ring (the page's `--focus`): yellow, drawn as two lines either side of the road. */
export const FOCUS_COLOUR = '#ffd84d';
