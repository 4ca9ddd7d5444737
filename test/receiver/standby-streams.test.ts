// The App's wiring of home control to the proxy: the standby guard counts real proxy viewers, and
// a box that goes to standby by itself ends its proxy streams cleanly, saying why once.
import { CommandRefused } from '../../src/receiver/errors';
import { StreamClient } from '../simulator/helpers';
import { channelsLoaded, DAS_ERSTE_HD, startStack, until } from '../helpers/stack';

it('guards "off" with the proxy\'s viewers and ends their streams when the box goes to standby', async () => {
  const stack = await startStack({ receiver: { refreshInterval: 1 } });
  const viewer = new StreamClient(stack.url, `/${DAS_ERSTE_HD}`);
  try {
    await channelsLoaded(stack);
    await viewer.waitFor(188 * 50);
    const receiver = stack.app.receivers[0];
    const refused = receiver.control.powerOff();
    await expect(refused).rejects.toBeInstanceOf(CommandRefused);
    await expect(refused).rejects.toThrow('Test Box stays on: 1 viewer is watching Das Erste HD through the proxy; send OFF_FORCE to turn it off anyway.');
    expect(stack.sim.state.power).toBe('on');

    // The remote switches the box to standby: the viewer gets a clean end, and the log says why.
    stack.sim.setState({ power: 'standby' });
    await viewer.waitEnd(10_000);
    await until(() => stack.logs.some((l) => l.includes('Test Box went to standby, so the proxy ended Das Erste HD for 1 viewer(s).')), 5_000, 'the log line');
    expect(stack.app.streams[0].sessions.list()).toHaveLength(0);
    expect(stack.logs.filter((l) => l.includes('went to standby'))).toHaveLength(1);
  } finally {
    viewer.close();
    await stack.stop();
  }
});
