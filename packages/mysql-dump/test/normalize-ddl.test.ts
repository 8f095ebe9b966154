import { describe, expect, it } from 'vitest';
import {
  chooseDelimiter,
  normalizeCreateEvent,
  normalizeCreateRoutine,
  normalizeCreateTable,
  normalizeCreateTrigger,
  normalizeCreateView,
  orderViews,
} from '../src/internal/normalize-ddl.js';
import { RECORDED_EVENTS, RECORDED_ROUTINES, RECORDED_TABLES, RECORDED_TRIGGERS, RECORDED_VIEWS } from './fixtures/recorded-show-create.js';

describe('normalising recorded SHOW CREATE output', () => {
  it.each(RECORDED_TABLES)('TABLE on $server: $what', ({ raw, normalized }) => {
    expect(normalizeCreateTable(raw)).toBe(normalized);
    expect(normalizeCreateTable(normalized)).toBe(normalized);
  });
  it.each(RECORDED_VIEWS)('VIEW on $server: $what', ({ raw, normalized }) => {
    expect(normalizeCreateView(raw)).toBe(normalized);
  });
  it.each(RECORDED_TRIGGERS)('TRIGGER on $server: $what', ({ raw, normalized }) => {
    expect(normalizeCreateTrigger(raw)).toBe(normalized);
  });
  it.each(RECORDED_ROUTINES)('$kind on $server: $what', ({ raw, normalized, kind }) => {
    expect(normalizeCreateRoutine(raw, kind)).toBe(normalized);
  });
  it.each(RECORDED_EVENTS)('EVENT on $server: $what', ({ raw, normalized }) => {
    expect(normalizeCreateEvent(raw)).toBe(normalized);
  });
});

describe('orderViews', () => {
  it('puts referenced views first, otherwise name order', () => {
    const views = new Map([
      ['a_report', 'CREATE VIEW `a_report` AS select `m_mid`.`id` AS `id` from `m_mid`'],
      ['m_mid', 'CREATE VIEW `m_mid` AS select `z_base`.`id` AS `id` from `z_base`'],
      ['z_base', 'CREATE VIEW `z_base` AS select `t`.`id` AS `id` from `t`'],
      ['b_alone', 'CREATE VIEW `b_alone` AS select 1 AS `x`'],
    ]);
    expect(orderViews(views)).toEqual(['z_base', 'm_mid', 'a_report', 'b_alone']);
  });
  // Each alias names the other view: a false cycle. The walk starts at v1 (name order), follows its edge to
  // v2 and stops at the cycle, so v2 comes first; what matters is one fixed order, whatever the input order.
  const v1 = ['v1', 'CREATE VIEW `v1` AS select `t`.`id` AS `v2` from `t`'] as const;
  const v2 = ['v2', 'CREATE VIEW `v2` AS select `t`.`id` AS `v1` from `t`'] as const;
  it.each([
    ['v1 listed first', [v1, v2]],
    ['v2 listed first', [v2, v1]],
  ])('gives one fixed order on a (false) cycle instead of failing (%s)', (_case, entries) => {
    expect(orderViews(new Map(entries))).toEqual(['v2', 'v1']);
  });
});

describe('chooseDelimiter', () => {
  it.each([
    ['BEGIN SELECT 1; END', ';;'],
    ["BEGIN SELECT ';;'; END", '$$'],
    ["BEGIN SELECT ';;', '$$'; END", '//'],
  ])('%s -> %s', (body, delimiter) => expect(chooseDelimiter(body)).toBe(delimiter));
});
