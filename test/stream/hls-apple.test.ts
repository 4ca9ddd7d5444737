// Which user agents asking for /<ref> are sent to the channel's HLS (apple.ts): Apple's players and
// browsers are, players that play TS are not, and ?direct=1 always gets the TS.
import { hlsLocation, isAppleHlsPlayer, redirectsToHls } from '../../src/stream/apple';

const APPLE = {
  coreMediaIphone: 'AppleCoreMedia/1.0.0.21A329 (iPhone; U; CPU OS 17_0 like Mac OS X; de_de)',
  coreMediaMac: 'AppleCoreMedia/1.0.0.23A344 (Macintosh; U; Intel Mac OS X 14_0; en_us)',
  coreMediaTv: 'AppleCoreMedia/1.0.0.21J354 (Apple TV; U; CPU OS 17_0 like Mac OS X; en_us)',
  safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  safariIpad: 'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
  ipod: 'Mozilla/5.0 (iPod touch; CPU iPhone OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.7 Mobile/15E148 Safari/604.1',
  chromeIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/118.0.5993.92 Mobile/15E148 Safari/604.1',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
};

const OTHERS = {
  vlc: 'VLC/3.0.20 LibVLC/3.0.20',
  vlcIos: 'VLC for iOS/3.5.0 (iPhone; iOS 17.0) LibVLC/3.0.20',
  kodi: 'Kodi/20.2 (X11; Linux x86_64) Debian/12 App_Bitness/64 Version/20.2-(20.2.0)-Git:20230629-5f418d0b13',
  lavf: 'Lavf/59.27.100',
  ffmpeg: 'ffmpeg/5.1.4',
  mpv: 'mpv 0.35.1',
  chromeMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36',
  edgeMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36 Edg/118.0.2088.46',
  operaMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0.0.0 Safari/537.36 OPR/103.0.0.0',
  firefoxMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.0; rv:118.0) Gecko/20100101 Firefox/118.0',
  chromiumLinux: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/118.0.0.0 Chrome/118.0.0.0 Safari/537.36',
  safariLikeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
  curl: 'curl/7.88.1',
};

it.each(Object.entries(APPLE))('sends %s to HLS', (_, agent) => {
  expect(isAppleHlsPlayer(agent)).toBe(true);
  expect(redirectsToHls(agent, new URLSearchParams())).toBe(true);
});

it.each(Object.entries(OTHERS))('leaves %s on the TS stream', (_, agent) => {
  expect(isAppleHlsPlayer(agent)).toBe(false);
  expect(redirectsToHls(agent, new URLSearchParams())).toBe(false);
});

it('leaves requests without a user agent on the TS stream', () => {
  expect(isAppleHlsPlayer(undefined)).toBe(false);
  expect(isAppleHlsPlayer('')).toBe(false);
});

it('lets ?direct=1 get the TS stream on an Apple device, and direct=0 not', () => {
  for (const query of ['direct=1', 'direct=true', 'direct', 'token=x&direct=yes']) {
    expect({ query, redirect: redirectsToHls(APPLE.safariIphone, new URLSearchParams(query)) }).toEqual({ query, redirect: false });
  }
  for (const query of ['direct=0', 'direct=false', 'DIRECT=1', 'token=abc']) {
    expect({ query, redirect: redirectsToHls(APPLE.safariIphone, new URLSearchParams(query)) }).toEqual({ query, redirect: true });
  }
});

it('points the redirect at the master playlist, with the token query', () => {
  expect(hlsLocation('1:0:19:283D:3FB:1:C00000:0:0:0:', '')).toBe('/hls/1%3A0%3A19%3A283D%3A3FB%3A1%3AC00000%3A0%3A0%3A0%3A/index.m3u8');
  expect(hlsLocation('1:0:1:6DCA:44D:1:C00000:0:0:0:', '?token=a%20b')).toBe('/hls/1%3A0%3A1%3A6DCA%3A44D%3A1%3AC00000%3A0%3A0%3A0%3A/index.m3u8?token=a%20b');
});
