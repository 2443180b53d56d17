// DateTime: an ISO-8601 instant in UTC.
import { builder } from '../src/builder.ts';
import { AppError } from '../src/errors.ts';

builder.scalarType('DateTime', {
  description: 'An instant in time, as an ISO-8601 string in UTC.',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : new Date(NaN);
    if (Number.isNaN(date.getTime())) throw AppError.badInput('DateTime', 'A DateTime must be an ISO-8601 string');
    return date;
  },
});
