// Rates seen on each refresh, per topic and channel, for the sparklines.
const SAMPLES = 60;
const series = new Map();

export function record(key, value) {
  if (value === null || value === undefined) return [];
  let values = series.get(key);
  if (!values) series.set(key, (values = []));
  values.push(value);
  if (values.length > SAMPLES) values.shift();
  return values;
}
