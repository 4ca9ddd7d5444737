// Timer lists and message answers as boxes write them: 0/1 flags, zap timers, states, translated answers.
import { parseMessageAnswer, parseTimerList, ShapeError } from '../../src/receiver/validate';

const entry = (over: Record<string, unknown>): Record<string, unknown> => ({
  serviceref: '1:0:19:2B66:3F3:1:C00000:0:0:0:', servicename: 'ZDF HD', name: 'Krimi', description: '', eit: 0,
  begin: 1_736_960_400, end: 1_736_964_000, state: 0, disabled: 0, justplay: 0, dontsave: 0, ...over,
});

it('turns timerlist entries into timers: states, disabled, instant, event ids; zap timers left out', () => {
  const timers = parseTimerList({ version: 2, result: true, timers: [
    entry({ state: 2, dontsave: 1, eit: 4711 }),
    entry({ state: 0, disabled: 1, begin: 1_736_970_000, end: 1_736_971_000 }),
    entry({ justplay: 1 }),
    entry({ state: 3, name: 'A & B', serviceref: '1:134:1:0:0:0:0:0:0:0:FROM BOUQUET "alternatives.x.tv" ORDER BY bouquet' }),
  ] });
  expect(timers.map((t) => [t.state, t.instant, t.eventId, t.name])).toEqual([
    ['recording', true, 4711, 'Krimi'], ['disabled', undefined, undefined, 'Krimi'], ['done', undefined, undefined, 'A & B'],
  ]);
  expect(timers[0].id).toBe('1736960400_1736964000_2b66_3f3_1_c00000');
  expect(timers[0].begin).toEqual(new Date(1_736_960_400_000));
  expect(timers[2].id).toMatch(/^1736960400_1736964000_1_134_1_0_0_0_0_0_0_0_from_bouquet/);
  expect(() => parseTimerList({ timers: [entry({ begin: 'soon' })] })).toThrow(ShapeError);
});

it('reads the last answer in the box\'s language, and "No answer in time" as none', () => {
  expect(parseMessageAnswer({ result: true, message: 'Answer is YES!' })).toBe('yes');
  expect(parseMessageAnswer({ result: true, message: 'Answer is NO!' })).toBe('no');
  expect(parseMessageAnswer({ result: true, message: 'Antwort ist JA!' })).toBe('yes');
  expect(parseMessageAnswer({ result: true, message: 'Antwort ist NEIN!' })).toBe('no');
  expect(parseMessageAnswer({ result: false, message: 'No answer in time' })).toBe('none');
  expect(() => parseMessageAnswer({ result: true, message: 'Maybe' })).toThrow(ShapeError);
});
