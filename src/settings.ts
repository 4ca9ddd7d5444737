/**
 * Every tunable constant of homebridge-xg2g in one place, each with its unit and the reason for its
 * value. Modules import from here instead of scattering literals; add new constants under the
 * section of the layer that uses them.
 */

// ---------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------

/** Homebridge platform name and config.schema.json `pluginAlias`. */
export const PLATFORM_NAME = 'XG2G';
/** npm package name, as Homebridge registers the plugin. */
export const PLUGIN_NAME = 'homebridge-xg2g';

// ---------------------------------------------------------------------------------------------
// Service references
// ---------------------------------------------------------------------------------------------

/** Longest accepted service reference, in characters. IPTV refs carry a URL; 512 is generous. */
export const SERVICE_REF_MAX_LENGTH = 512;
/** Hex characters of the hash used for short channel ids: 32 bits, collision-free in practice. */
export const CHANNEL_ID_HASH_HEX = 8;

// ---------------------------------------------------------------------------------------------
// OpenWebIF client
// ---------------------------------------------------------------------------------------------

/** Per-request timeout, in ms. Real boxes answer statusinfo in <100 ms; a stalled one never does. */
export const OWI_TIMEOUT_MS = 5_000;
/**
 * Requests that may wait for one box (one runs at a time): a poll, a channel load and a few
 * commands. Beyond that commands arrive faster than the box answers, and queuing them would only
 * delay every later one by seconds each, so they are refused.
 */
export const OWI_QUEUE_MAX = 16;
/** Default web interface ports. */
export const OWI_HTTP_PORT = 80;
export const OWI_HTTPS_PORT = 443;
/** The enigma2 stream server's port, and the descrambling relay's. */
export const STREAM_PORT = 8001;
export const STREAM_RELAY_PORT = 17999;
/**
 * Largest answer accepted from the web interface, in bytes. A bouquet's EPG on a big bouquet is a
 * few MB; anything far beyond that is not an OpenWebIF answer and would only eat memory.
 */
export const OWI_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** Longest piece of a box's own message (`result: false`) quoted in an error, in characters. */
export const OWI_BOX_MESSAGE_MAX_CHARS = 200;
/** User-Agent sent to the web interface, so a box's log shows who is polling it. */
export const OWI_USER_AGENT = 'homebridge-xg2g';

// ---------------------------------------------------------------------------------------------
// Receiver polling
// ---------------------------------------------------------------------------------------------

/** While the box cannot be reached at start, retry loading device info and channels this often (ms). */
export const CHANNEL_RELOAD_RETRY_MS = 30_000;
/** Default and minimum statusinfo poll interval, in s. Faster polling stalls weak boxes. */
export const REFRESH_INTERVAL_DEFAULT_S = 5;
export const REFRESH_INTERVAL_MIN_S = 1;
/** Longest poll interval while the box is unreachable, in s: it comes back within a minute's notice. */
export const MONITOR_BACKOFF_MAX_S = 60;
/** After waking the box, how long to wait for it to report "on" before zapping, in ms; and how often to ask. */
export const WAKE_CONFIRM_TIMEOUT_MS = 10_000;
export const WAKE_CONFIRM_POLL_MS = 500;

// ---------------------------------------------------------------------------------------------
// Proxy and API listeners
// ---------------------------------------------------------------------------------------------

/** The original xg2g daemon's ports, kept so existing playlists and dashboards keep working. */
export const PROXY_LISTEN_DEFAULT = ':18000';
export const API_LISTEN_DEFAULT = ':18080';
/**
 * Under Homebridge the second listener is off unless asked for: the proxy's port already serves
 * every route, and a plugin should not open a port nobody uses (one more to collide with on a
 * host that runs many plugins). `xg2g serve` keeps :18080 as a drop-in for the original daemon.
 */
export const API_LISTEN_DEFAULT_HOMEBRIDGE = '';
/** Distinct channels streamed at once when the box does not tell its tuner count. */
export const MAX_SESSIONS_FALLBACK = 2;

// ---------------------------------------------------------------------------------------------
// MQTT
// ---------------------------------------------------------------------------------------------

export const MQTT_URL_DEFAULT = 'mqtt://127.0.0.1:1883';
export const MQTT_PREFIX_DEFAULT = 'xg2g';
export const MQTT_DISCOVERY_PREFIX_DEFAULT = 'homeassistant';
export const MQTT_EMBEDDED_BROKER_PORT_DEFAULT = 1883;
/** Reconnect back-off, in ms: first retry after 1 s, doubling to one a minute while the broker is down. */
export const MQTT_RECONNECT_MIN_MS = 1_000;
export const MQTT_RECONNECT_MAX_MS = 60_000;
/** A broker that accepts TCP but sends no CONNACK within this long is treated as down (ms). */
export const MQTT_CONNECT_TIMEOUT_MS = 10_000;
/** MQTT keepalive, in s: a broker that vanished without closing TCP is noticed within ~1.5x this. */
export const MQTT_KEEPALIVE_S = 30;
/** Unsent bytes on the broker socket above which publishes are skipped (a stalled broker must not
 *  make memory grow); the latest state is republished on reconnect anyway. */
export const MQTT_MAX_BUFFERED_BYTES = 1024 * 1024;
/** While streams run, their topics are refreshed this often (ms), and only when a value changed:
 *  bitrates move continuously, and a dashboard needs no more than this. */
export const MQTT_STREAM_PUBLISH_INTERVAL_MS = 10_000;
/** Bitrates are published rounded to this many bit/s, so jitter below it is no change. */
export const MQTT_BITRATE_STEP_BPS = 1_000;
/** Longest command payload accepted, in bytes: a channel name or service ref is far shorter. */
export const MQTT_COMMAND_MAX_BYTES = 1_024;
/** Home Assistant rejects sensor states longer than 255 characters. */
export const MQTT_HA_STATE_MAX_CHARS = 255;

// ---------------------------------------------------------------------------------------------
// HomeKit (src/platform.ts, src/homekit/)
// ---------------------------------------------------------------------------------------------

/** InputSources per TV. HomeKit stops showing a TV's inputs somewhere near 96 linked services
 *  (the Television, its speaker and the information service count too): 90 keeps a margin. */
export const HOMEKIT_TV_MAX_INPUTS = 90;
/** Channel accessories on the bridge, over all receivers. HomeKit refuses a bridge with more than
 *  150 accessories (the bridge counts itself); 140 leaves room for other plugins' few accessories. */
export const HOMEKIT_CHANNEL_ACCESSORIES_MAX = 140;
/** Longest name HomeKit accepts for accessories, services and inputs, in characters. */
export const HOMEKIT_NAME_MAX_LENGTH = 64;
/** How long a HomeKit write waits for the box before answering, in ms. HAP-NodeJS warns about
 *  writes slower than 3 s and the Home app gives up at 10 s; a zap from standby can take longer,
 *  so slower commands finish in the background and report failures in the log. */
export const HOMEKIT_SET_WAIT_MS = 2_500;
/** Folder under Homebridge's storage path for the inputs renamed or hidden in the Home app. */
export const HOMEKIT_STORAGE_DIR = 'homebridge-xg2g';
/** Folder under Homebridge's storage path for the guide and picon caches. */
export const PLUGIN_CACHE_DIR = 'homebridge-xg2g/cache';

// ---------------------------------------------------------------------------------------------
// MPEG-TS
// ---------------------------------------------------------------------------------------------

/** ISO/IEC 13818-1 packet size and sync byte. */
export const TS_PACKET_SIZE = 188;
export const TS_SYNC_BYTE = 0x47;
/**
 * Largest PSI section, in bytes, header included: ISO/IEC 13818-1 caps section_length at 1021 for
 * PAT and PMT (1024 bytes in all). Anything longer cannot be one and is dropped, so a malformed
 * stream cannot make the reassembly grow.
 */
export const PSI_SECTION_MAX_BYTES = 1_024;

// ---------------------------------------------------------------------------------------------
// Configuration (src/config/)
// ---------------------------------------------------------------------------------------------

/** Top-level `name` when the block has none: the platform's display name in Homebridge logs. */
export const CONFIG_NAME_DEFAULT = 'xg2g';
/** Name of a receiver that has none (receiver one from XG2G_OWI_BASE gets this). */
export const RECEIVER_NAME_DEFAULT = 'Receiver';
/** The bouquet every Enigma2 image ships, so a fresh box has channels without setup. */
export const BOUQUET_DEFAULT = 'Favourites (TV)';
/** Remote key sent by the iOS Remote's info button (DESIGN.md's default): the iOS Remote has no
 *  menu button, and the box's menu is the key most often missed. */
export const INFO_KEY_DEFAULT = 'MENU';
/**
 * Viewers per channel stream. Each one gets its own copy of the fan-out: ten ~10 Mbit/s HD
 * streams are ~100 Mbit/s of upload, the practical ceiling of a Raspberry Pi on a home LAN.
 */
export const MAX_CLIENTS_PER_CHANNEL_DEFAULT = 10;
/** Audio transcoding defaults: AAC-LC stereo at 192 kbit/s plays everywhere (Apple, browsers, VLC). */
export const AUDIO_CODEC_DEFAULT = 'aac';
export const AUDIO_BITRATE_DEFAULT = '192k';
export const AUDIO_CHANNELS_DEFAULT = 2;
/** Accepted audio bitrates, in kbit/s: below 32 AAC is unlistenable, above 512 pointless. */
export const AUDIO_BITRATE_MIN_K = 32;
export const AUDIO_BITRATE_MAX_K = 512;
/** Largest accepted refreshInterval, in s: slower polling makes HomeKit state useless. */
export const REFRESH_INTERVAL_MAX_S = 3_600;

// ---------------------------------------------------------------------------------------------
// ffmpeg location (src/stream/ffmpeg-locate.ts)
// ---------------------------------------------------------------------------------------------

/** How long `ffmpeg -version` may take, in ms. It answers in ~50 ms; a hung binary is broken. */
export const FFMPEG_VERSION_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// The xg2g command (src/cli.ts, src/cli/)
// ---------------------------------------------------------------------------------------------

/** Web port of `xg2g simulate` / `xg2g demo`: 8080 because 80 needs root (the stream ports are
 *  a real box's, STREAM_PORT and STREAM_RELAY_PORT). */
export const SIMULATOR_WEB_PORT_DEFAULT = 8080;
/** Exit codes of the command: 1 = a check or an operation failed, 2 = bad usage. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

// ---------------------------------------------------------------------------------------------
// Simulator
// ---------------------------------------------------------------------------------------------

/** The simulator binds loopback unless told otherwise: it has no auth by default. */
export const SIM_HOST_DEFAULT = '127.0.0.1';
/** Tuners of the simulated box: a typical twin-tuner receiver. */
export const SIM_TUNERS_DEFAULT = 2;
/** Environment variable naming the folder for the encoded test streams. */
export const SIM_CACHE_ENV = 'XG2G_SIM_CACHE';
/** Folder under os.tmpdir() used when SIM_CACHE_ENV is unset. */
export const SIM_CACHE_SUBDIR = 'xg2g-simulator-cache';
/** Bump when the encode arguments change, so stale cached files are not reused. */
export const SIM_CACHE_VERSION = 1;
/** Length of each cached profile, in s: long enough to loop rarely, short enough to encode in ~1-3 s. */
export const SIM_PROFILE_DURATION_S = 10;
/** GOP length of the cached video, in s (DVB broadcasters use 0.5-2 s; 2 s is the worst case). */
export const SIM_PROFILE_GOP_S = 2;
/** Longest stretch dropped at a stream's start to land mid-GOP like a real tune, in s. */
export const SIM_RANDOM_START_MAX_S = 1;
/** Time ffmpeg gets after SIGTERM before SIGKILL, in ms. */
export const SIM_FFMPEG_KILL_GRACE_MS = 1_000;
/** Pacing tick for captures served byte-for-byte, in ms (25 ticks/s ≈ one video frame each). */
export const SIM_CAPTURE_TICK_MS = 40;
/** Capture rate when its PCRs cannot be read, in bytes/s (≈ 8 Mbit/s, a typical HD service). */
export const SIM_CAPTURE_FALLBACK_BPS = 1_000_000;
/** Largest request head the raw streaming listeners accept, in bytes (enigma2 reads far less). */
export const SIM_REQUEST_HEAD_MAX_BYTES = 8_192;
/** Requests kept in the log: a long-running `xg2g simulate` must not grow without bound. */
export const SIM_REQUEST_LOG_MAX = 10_000;
/** Volume change of one `vol?set=up|down` step (enigma2's eDVBVolumecontrol default). */
export const SIM_VOLUME_STEP = 5;
/** Length of the simulated EPG events, in s (programmes of 30 min, aligned to the half hour). */
export const SIM_EPG_SLOT_S = 1_800;

// ---------------------------------------------------------------------------------------------
// ffmpeg
// ---------------------------------------------------------------------------------------------

/** ffmpeg probe budget, in bytes and µs: 500 kB starts output in ~0.6 s; the 5 MB default takes 5 s. */
export const FFMPEG_PROBE_SIZE_BYTES = 500_000;
export const FFMPEG_ANALYZE_DURATION_US = 500_000;
/** Packets ffmpeg may buffer per stream while waiting for the others (audio leads video on DVB). */
export const FFMPEG_MAX_MUXING_QUEUE = 1024;
/** stderr kept per ffmpeg process, in bytes: enough for the error, bounded for a process that chatters. */
export const FFMPEG_STDERR_MAX_BYTES = 16 * 1024;
/** Grace between SIGTERM and SIGKILL, in ms: ffmpeg flushes its muxer on SIGTERM in well under this. */
export const FFMPEG_KILL_TIMEOUT_MS = 2_000;
/**
 * Input waiting for ffmpeg, in bytes. Receivers burst several MB when a channel starts, which
 * ffmpeg works off faster than real time, so only a backlog that stays above the soft bound for
 * FFMPEG_BACKLOG_GRACE_MS means it cannot keep up; the hard bound caps the memory a burst may take.
 */
export const FFMPEG_BACKLOG_SOFT_BYTES = 4 * 1024 * 1024;
export const FFMPEG_BACKLOG_HARD_BYTES = 24 * 1024 * 1024;
export const FFMPEG_BACKLOG_GRACE_MS = 3_000;
/**
 * ffmpeg silent this long while input flows (ms): it hangs (or was stopped), so it is replaced. A
 * radio channel's ~24 kB/s fills ffmpeg's 32 kB output buffer in ~1.3 s, so this leaves margin.
 */
export const FFMPEG_OUTPUT_STALL_MS = 5_000;

/**
 * The audio splice (stream/splice/). A source PTS further than this from the duration fed so far
 * re-anchors the track's clock, in 90 kHz ticks: 1 ms, above rounding (±1 tick per frame at
 * 44.1 kHz), far below a lost frame (AC-3: 32 ms).
 */
export const SPLICE_ANCHOR_TOLERANCE_TICKS = 90;
/** Samples of delay ffmpeg's native AAC encoder puts in front (its initial_padding). */
export const SPLICE_ENCODER_PRIMING_SAMPLES = 1024;
/** Encoder restarts one splice makes before a failure ends the pipe (and the session reconnects). */
export const SPLICE_ENCODER_RESTARTS = 3;
/** Largest audio PES the splice assembles, in bytes: a DVB audio PES is a few kB. */
export const SPLICE_PES_MAX_BYTES = 64 * 1024;
/** Bytes of a track scanned without finding one frame before it is handed to the full remux. */
export const SPLICE_UNSYNCED_MAX_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Stream proxy
// ---------------------------------------------------------------------------------------------

/** A receiver sends its 200 before tuning; no TS within this long means a busy or failed tuner (ms). */
export const UPSTREAM_FIRST_DATA_TIMEOUT_MS = 5_000;
/** Once streaming, silence this long means the upstream stalled (ms). */
export const UPSTREAM_STALL_TIMEOUT_MS = 10_000;
/** The 17999 relay refuses connects for a while after the web interface answers: retry this long (ms). */
export const UPSTREAM_CONNECT_RETRY_WINDOW_MS = 4_000;
export const UPSTREAM_CONNECT_RETRY_DELAY_MS = 500;
/** Reconnects after a mid-stream drop, while clients stay attached: a few, a second apart. */
export const UPSTREAM_RECONNECT_ATTEMPTS = 3;
export const UPSTREAM_RECONNECT_DELAY_MS = 1_000;
/**
 * Streaming this long without trouble earns the reconnect budget back (ms). Shorter would let a
 * stream that plays a few seconds and then stalls reconnect forever, holding the tuner.
 */
export const UPSTREAM_HEALTHY_RESET_MS = 60_000;
/**
 * From connecting to the first packet out (ms): covers a service that sends TS without a PMT or
 * keyframe and an ffmpeg that never produces output (AC-3 announced but absent). ffmpeg's probe
 * takes ~0.6 s and a GOP at most 2 s, so this is generous.
 */
export const STREAM_FIRST_OUTPUT_TIMEOUT_MS = 10_000;
/** A session lingers this long after its last client, so a player's quick reconnect keeps the tuner (ms).
 * Must stay well under the 2 s in which tuners have to be free again. */
export const SESSION_LINGER_MS = 500;
/** Per-client send queue, in bytes: ~4 s of an 8 Mbit/s channel. A client further behind is dropped. */
export const CLIENT_QUEUE_MAX_BYTES = 4 * 1024 * 1024;
/** Cached last GOP for joining clients, in bytes: a 2 s GOP at 8 Mbit/s is ~2 MB. */
export const GOP_CACHE_MAX_BYTES = 6 * 1024 * 1024;
/** A request head must be complete this long after the connection opened (ms); checked this often (ms). */
export const LISTENER_HEADERS_TIMEOUT_MS = 10_000;
export const LISTENER_CHECK_INTERVAL_MS = 1_000;
/**
 * Connections one listener holds at once: viewers (10 per channel by default) and players polling
 * HLS fit many times over; beyond it a flood is refused instead of taking every file descriptor.
 */
export const LISTENER_MAX_CONNECTIONS = 1_000;
/** Longest request path accepted, in characters (a service ref is at most 512, encoded up to 3x). */
export const REQUEST_PATH_MAX_LENGTH = 1_600;
/** HLS: 2 s segments (cut at source keyframes, so a 2 s GOP gives 2 s), six in the live window. */
export const HLS_SEGMENT_S = 2;
export const HLS_LIST_SIZE = 6;
export const HLS_MEDIA_PLAYLIST = 'media.m3u8';
/** HLS players poll; an HLS session with no request for this long has lost its viewer (ms). */
export const HLS_IDLE_TIMEOUT_MS = 30_000;
/** How long a first playlist request waits for the first segment: tuning + keyframe + one segment (ms). */
export const HLS_READY_TIMEOUT_MS = 15_000;
/**
 * A segment is cut at the next keyframe after HLS_SEGMENT_S; one that reaches this size first is
 * cut anyway (bytes), so a stream without keyframes cannot grow it without bound. ~8 s of a 16
 * Mbit/s channel.
 */
export const HLS_SEGMENT_MAX_BYTES = 16 * 1024 * 1024;
/** Window for the current-bitrate figure in status and metrics, in ms. */
export const BITRATE_WINDOW_MS = 2_000;

/** Days of programme guide served in /xmltv.xml by default (a week, as EPG grabbers fetch). */
export const EPG_DAYS_DEFAULT = 7;
/** DVB EIT schedules rarely reach beyond 14 days. */
export const EPG_DAYS_MAX = 14;
/** Hours between guide refreshes: the box's EIT changes slowly, and a bouquet's EPG is heavy for it. */
export const EPG_REFRESH_HOURS_DEFAULT = 6;
/** Refreshing more often than this only loads the box. */
export const EPG_REFRESH_HOURS_MIN = 0.5;

// Picons
/** Largest picon accepted from the box, in bytes: real ones (220×132 PNG) are 5-60 KB; more is not a logo. */
export const PICON_MAX_BYTES = 512 * 1024;
/** Per picon request to the box, in ms: a static file answers at once, and a playlist app waits for its logos. */
export const PICON_TIMEOUT_MS = 3_000;
/** Picon requests to one box at a time: leaves room in the client's queue (OWI_QUEUE_MAX) for polls and commands while an app asks for every logo at once. */
export const PICON_FETCH_CONCURRENCY = 2;
/** Picons kept on disk, in bytes: ~400 logos of 50 KB, more than any bouquet setup shows; least recently used go first. */
export const PICON_DISK_MAX_BYTES = 20 * 1024 * 1024;
/** Picons kept in memory, in bytes: the logos a channel list on screen shows, served without touching the disk. */
export const PICON_MEMORY_MAX_BYTES = 2 * 1024 * 1024;
/** A cached picon's "last used" time (file mtime, for eviction) is written at most this often, in ms: not on every request. */
export const PICON_TOUCH_INTERVAL_MS = 10 * 60 * 1000;
/** A channel the box has no picon for is asked about again after this long, in ms: picons are added rarely, and each lookup costs the box up to three requests. */
export const PICON_MISSING_TTL_MS = 6 * 60 * 60 * 1000;
/** After a failed fetch (box down, timeout), this long before the box is asked again, in ms: a playlist app loading every logo must not queue requests against a box that does not answer. */
export const PICON_FAILURE_TTL_MS = 60 * 1000;
/** How long players may keep a picon, in seconds (Cache-Control max-age): logos change rarely. */
export const PICON_HTTP_MAX_AGE_S = 24 * 60 * 60;

// HLS for players
/** x264 constant-quality factor for MPEG-2 channels encoded to H.264 for Apple HLS: 23 is x264's default, fine for SD. */
export const HLS_VIDEO_CRF = 23;
/** Peak video bitrate of that encode, in kbit/s (its VBV buffer holds two seconds): caps what a busy scene costs the network. */
export const HLS_VIDEO_MAX_KBPS = 5_000;
/** Average video bitrate for the hardware encoders, in kbit/s: they have no x264-style quality mode that all of them share. */
export const HLS_VIDEO_HW_KBPS = 4_000;
/** GOP length in frames for encoders that may ignore forced keyframes: one HLS segment of 25 fps (DVB in Europe is 50i). */
export const HLS_VIDEO_FALLBACK_GOP_FRAMES = 50;
/** The render node VA-API encodes on (the first GPU; Intel and AMD). */
export const HLS_VAAPI_DEVICE = '/dev/dri/renderD128';
/** Bytes an HLS session holds while it waits for the channel's PMT to choose copy or encode (the session sends PAT and PMT first, so this is a bound, not a buffer that fills). */
export const HLS_PMT_WAIT_MAX_BYTES = 4 * 1024 * 1024;
/** How long a channel HLS refused (MPEG-2 without transcodeVideo) is answered 415 without tuning again, in ms: players retry. */
export const HLS_REFUSAL_MEMORY_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// Guide (src/receiver/guide.ts, src/stream/guide.ts, src/stream/xmltv.ts)
// ---------------------------------------------------------------------------------------------

/** First guide fetch this long after the channel list loaded, in ms: the monitor's first polls and
 *  HomeKit's first reads, which a user waits for, reach the box first. */
export const GUIDE_FIRST_FETCH_DELAY_MS = 5_000;
/** Timeout of one channel's EPG request, in ms: a week of one service is 100-300 kB of JSON that a
 *  weak box needs a few seconds to build, which the status poll's OWI_TIMEOUT_MS could cut off; not
 *  longer, as the status poll waits behind it in the queue when the box hangs. */
export const GUIDE_REQUEST_TIMEOUT_MS = 10_000;
/** Pause between two channels' EPG requests, in ms: the EPG lookups are heavy for the box, and a
 *  refresh of a big bouquet back to back would make its own menus stall. */
export const GUIDE_REQUEST_GAP_MS = 250;
/** No guide request within this long after a zap or a stream start, in ms: the box is tuning, and
 *  a stalled web interface then delays the zap's confirmation and the stream's first bytes. */
export const GUIDE_ZAP_QUIET_MS = 60_000;
/** After a failed refresh, retry after 1 min, doubling up to 30 min (never later than the next
 *  regular refresh): a box in standby or rebooting is back within minutes. */
export const GUIDE_RETRY_MIN_MS = 60_000;
export const GUIDE_RETRY_MAX_MS = 30 * 60_000;
/** Programmes kept per channel: 14 days of 5-minute slots (news channels) is 4032; a box that sends
 *  more sends nonsense, which must not fill memory or the cache file. */
export const GUIDE_MAX_EVENTS_PER_CHANNEL = 5_000;
/** Retry-After of /xmltv.xml before the first guide arrived, in s: a first refresh of a 100-channel
 *  bouquet takes about a minute. */
export const GUIDE_RETRY_AFTER_S = 60;
/** The guide's cache file in the App's cache folder. Bump the version in it when its shape changes. */
export const GUIDE_CACHE_FILE = 'guide-v1.json';
/** Events one simulated epgservice answer holds at most: EPG_DAYS_MAX of 30-minute slots and the
 *  running one, as a box's EIT schedule ends after some days too. */
export const SIM_EPG_MAX_EVENTS = Math.ceil((EPG_DAYS_MAX * 86_400) / SIM_EPG_SLOT_S) + 1;

// Web page
/** How often the page at `/` asks /api/status for the active streams while it is shown, in ms. */
export const WEB_STATUS_POLL_MS = 3_000;
/** How often the page reloads the channel list for what is on now, in ms: programmes change every few minutes at most. */
export const WEB_CHANNELS_REFRESH_MS = 60_000;
/** Cache lifetime of hls.js, in seconds: a year; the page asks for it with its version in the URL, so an update is fetched anew. */
export const WEB_LIBRARY_MAX_AGE_S = 365 * 24 * 60 * 60;

// ---------------------------------------------------------------------------------------------
// HDHomeRun
// ---------------------------------------------------------------------------------------------

/**
 * The tuner xg2g poses as: an HDHomeRun TECH (transcoding) model, as other emulators answer, because
 * Channels DVR calls older models "legacy" and asks for a firmware update, and Plex and Jellyfin
 * accept it. The firmware version is a date like real firmware reports; clients only show it.
 */
export const HDHR_MANUFACTURER = 'Silicondust';
export const HDHR_MODEL_NUMBER = 'HDTC-2US';
export const HDHR_FIRMWARE_NAME = 'hdhomeruntc_atsc';
export const HDHR_FIRMWARE_VERSION = '20231214';
/** The discovery reply carries TunerCount in one byte. */
export const HDHR_TUNER_COUNT_MAX = 255;
/**
 * Channel-number offset per receiver after the first (each receiver numbers its channels from 1),
 * in the playlist, the HDHomeRun lineup and the web page: 1000 keeps numbers short and unique.
 */
export const CHANNEL_NUMBER_STEP = 1_000;
/** Retry-After on the 503 answered until the first receiver has been reached, in s. */
export const HDHR_NOT_READY_RETRY_S = 10;
/** SSDP's UDP port and IPv4 multicast group (UPnP Device Architecture): media servers M-SEARCH there. */
export const HDHR_SSDP_PORT = 1900;
export const HDHR_SSDP_GROUP = '239.255.255.250';
/** CACHE-CONTROL max-age of an SSDP answer, in s: UPnP's recommended minimum. */
export const HDHR_SSDP_MAX_AGE_S = 1_800;
/** An M-SEARCH is a few hundred bytes; longer datagrams on port 1900 are dropped unread (bytes). */
export const HDHR_SSDP_PACKET_MAX_BYTES = 2_048;
/** The HDHomeRun discovery protocol's UDP port (libhdhomerun HDHOMERUN_DISCOVER_UDP_PORT). */
export const HDHR_DISCOVERY_PORT = 65_001;
/** libhdhomerun's HDHOMERUN_MAX_PACKET_SIZE, in bytes: longer datagrams are not discovery packets. */
export const HDHR_DISCOVERY_PACKET_MAX_BYTES = 1_460;

// ---------------------------------------------------------------------------------------------
// HomeKit home control (src/homekit/control-accessories.ts and the switches and sensors it holds)
// ---------------------------------------------------------------------------------------------

/** How long a momentary switch (Deep Standby, Reboot) shows "on" after it was tapped, in ms: long
 *  enough for the Home app to show that the tap took, short enough to be ready for the next one. */
export const HOMEKIT_MOMENTARY_RESET_MS = 1_000;

// ---------------------------------------------------------------------------------------------
// Home control
// ---------------------------------------------------------------------------------------------

/** UDP port of the Wake-on-LAN magic packet when a wakeBroadcast entry names none: 9 (discard) is
 *  the port network cards and routers that forward WoL expect. */
export const WOL_PORT_DEFAULT = 9;
/** The limited broadcast, sent besides each local IPv4 subnet's broadcast when wakeBroadcast is
 *  empty: a box on the same segment hears it whatever the subnet mask says. */
export const WOL_BROADCAST_ALL = '255.255.255.255';
/** After the magic packet, how long to wait for the web interface, in ms: a box boots from deep
 *  standby in 30-50 s (enigma2 starts its GUI last); longer means it did not hear the packet. */
export const WOL_BOOT_TIMEOUT_MS = 60_000;
/** How often to look for the web interface while the box boots, in ms: each try costs one small
 *  request, and a booting box is not slowed by it. */
export const WOL_POLL_MS = 2_000;
/** Resend the magic packet this often while waiting, in ms: UDP may drop it, and some network
 *  cards only listen a few seconds after the box went to deep standby. */
export const WOL_RESEND_MS = 10_000;
/** The file in the App's cache folder that remembers each receiver's MAC (read from deviceinfo),
 *  so a box in deep standby when Homebridge starts can still be woken. Bump the version in the
 *  name when its shape changes. */
export const RECEIVER_MEMORY_FILE = 'receivers-v1.json';
/** The timer list is polled this often while the box answers, in ms: timers change rarely, and
 *  every command and every change of isRecording re-reads it at once anyway. */
export const TIMER_POLL_MS = 60_000;
/** While a yes/no message is on screen, ask for the answer this often, in ms: the box only keeps
 *  the last answer, so polling is the only way, and a person takes seconds to press a key. */
export const MESSAGE_ANSWER_POLL_MS = 1_000;
/** After a yes/no message's own timeout, wait this much longer before the answer counts as
 *  'none', in ms: the box closes the message on its own clock, which may run a little late. */
export const MESSAGE_ANSWER_GRACE_MS = 1_500;
/** Longest time a message stays on screen, in s: 10 minutes; longer would block the TV picture. */
export const MESSAGE_TIMEOUT_MAX_S = 600;
/** Longest message text, in characters: a MessageBox shows a few lines; longer text is cut there. */
export const MESSAGE_TEXT_MAX_CHARS = 500;
/** Simulator: from the magic packet to the web interface answering again, in ms (a real box takes
 *  30-50 s; the demo need not wait that long, and tests set a few ms). */
export const SIM_BOOT_DELAY_MS = 3_000;
/** Simulator: enigma2's default recording margins (config.recording.margin_before/_after, in
 *  minutes 3 and 5), applied in s to timers made from an EPG event and to instant recordings. */
export const SIM_TIMER_MARGIN_BEFORE_S = 180;
export const SIM_TIMER_MARGIN_AFTER_S = 300;
/** Simulator: a timer is "preparing" this long before it begins, in s (enigma2's prepare_time). */
export const SIM_TIMER_PREPARE_S = 20;
/** Simulator: an infinite instant recording lasts this long, in s (OpenWebIF's recordNow: 10 h). */
export const SIM_INFINITE_RECORDING_S = 10 * 3_600;

// ---------------------------------------------------------------------------------------------
// MQTT home control
// ---------------------------------------------------------------------------------------------

/** How long `message/set` shows a message that names no timeout, in s: long enough to read two lines. */
export const MQTT_MESSAGE_TIMEOUT_DEFAULT_S = 10;
/** How long a yes/no question waits for an answer when it names no timeout, in s: someone has to
 *  find the remote. */
export const MQTT_QUESTION_TIMEOUT_DEFAULT_S = 30;
/** Longest timer name `timer/add` passes on, in characters (the box's timer list shows one line). */
export const MQTT_TIMER_NAME_MAX_CHARS = 100;
/** Where Home Assistant's "MQTT info" links for help with the discovered entities (origin.support_url). */
export const MQTT_SUPPORT_URL = 'https://github.com/homebridge-xg2g/homebridge-xg2g/issues';
/** How often to retry the channel-logo URL while the proxy's listener is not open yet, in ms, and
 *  how many times: the receiver's state can arrive a moment before the proxy listens. */
export const MQTT_PICON_RETRY_MS = 1_000;
export const MQTT_PICON_RETRIES = 30;

// HomeKit camera
/** Live views at once by default: each runs an encoder (about a core each for 1080p on a Raspberry Pi 4). */
export const CAMERA_MAX_STREAMS_DEFAULT = 2;
/** RTP stream services on each camera accessory: HAP asks at least 2 of a camera without HomeKit
 *  Secure Video (two Home app viewers at once); camera.maxStreams limits live views over all
 *  cameras, and the feed refuses one above it with a sentence the Home app shows. */
export const CAMERA_STREAMS_PER_ACCESSORY = 2;
/** Pictures the camera offers the Home app, as [width px, height px, frames per s]: 16:9 like TV,
 *  largest first, each at 30 and 15 fps (the Home app picks by screen and network), and 320x240
 *  at 15, which the Apple Watch asks for. */
export const CAMERA_RESOLUTIONS: ReadonlyArray<readonly [number, number, number]> = [
  [1920, 1080, 30], [1920, 1080, 15], [1280, 720, 30], [1280, 720, 15], [640, 360, 30], [640, 360, 15],
  [480, 270, 30], [480, 270, 15], [320, 180, 30], [320, 180, 15], [320, 240, 15],
];
/** Opus sample rates offered, in kHz: both, as HAP-NodeJS says a camera with Opus must (the Apple Watch takes 16). */
export const CAMERA_OPUS_SAMPLE_RATES_KHZ = [16, 24];
/** AAC-ELD sample rate offered, in kHz: 16, the rate HAP camera plugins offer and the Home app takes. */
export const CAMERA_AAC_ELD_SAMPLE_RATE_KHZ = 16;
/** A live view ends when the Home app's RTCP reports stop for this long, in ms (after the first one
 *  arrived): a phone that left the network or was locked without closing its HAP connection would
 *  otherwise keep an encoder running. The Home app reports every 0.5-1 s. */
export const CAMERA_VIEWER_SILENCE_MS = 15_000;

// Camera feed
/** Longest /grab answer accepted, in bytes: a 1080p JPEG from a box is 100-500 KB. */
export const CAMERA_GRAB_MAX_BYTES = 4 * 1024 * 1024;
/** Time a /grab may take, in ms: the box encodes a JPEG of its framebuffer (1-3 s on weak boxes). */
export const CAMERA_GRAB_TIMEOUT_MS = 8_000;
/** How long a /grab picture (or its failure) is reused, in ms: repeated grabs stall weak boxes, and
 *  the Home app asks for a snapshot every ~10 s per visible tile. */
export const CAMERA_GRAB_CACHE_MS = 10_000;
/** /grab widths asked of the box, in pixels: a request is rounded up to one, so nearby sizes share a grab. */
export const CAMERA_GRAB_WIDTHS = [320, 640, 1280, 1920];
/** Longest a snapshot makes the Home app wait, in ms, before it gets the placeholder (a slow grab
 *  still fills the cache for the next one). HAP warns about snapshot handlers slower than 5 s. */
export const CAMERA_SNAPSHOT_BUDGET_MS = 4_000;
/** Time ffmpeg gets to decode one frame of the session's cached GOP, in ms. */
export const CAMERA_FRAME_DECODE_TIMEOUT_MS = 3_000;
/** Bytes of the cached GOP handed to the one-frame decode: enough for the keyframe (a DVB HD
 *  I-frame is 0.2-1 MB) with the audio around it; the rest of the GOP is not needed. */
export const CAMERA_FRAME_INPUT_MAX_BYTES = 2 * 1024 * 1024;
/** Largest JPEG a one-shot ffmpeg may write, in bytes (a 4K JPEG is ~2 MB). */
export const CAMERA_JPEG_MAX_BYTES = 8 * 1024 * 1024;
/** JPEG quality of snapshots and placeholders (ffmpeg -q:v, 2 best .. 31 worst). */
export const CAMERA_JPEG_QUALITY = 4;
/** Placeholder pictures kept (one per size and text): the Home app asks for few sizes. */
export const CAMERA_PLACEHOLDER_CACHE_MAX = 16;
/** Snapshot sizes accepted, in pixels per side; larger or smaller requests are clamped. */
export const CAMERA_SIZE_MIN = 16;
export const CAMERA_SIZE_MAX = 3_840;
/** A live view's encoded video gets a keyframe this often, in s: a viewer that lost packets
 *  recovers at the next one. */
export const CAMERA_KEYFRAME_INTERVAL_S = 2;
/** Copy the channel's H.264 only while its stream (video and audio, as received) is at most this
 *  many times the bitrate the viewer asked for; a broadcast at 8 Mbit/s would flood a phone that
 *  asked for 300 kbit/s. */
export const CAMERA_COPY_BITRATE_SLACK = 1.5;
/** Bytes of the session's stream a live view holds while it looks for the PMT and the SPS before
 *  choosing copy or encode; past it, it encodes. */
export const CAMERA_PROBE_MAX_BYTES = 4 * 1024 * 1024;
/** Audio bitrate when the request names none, in kbit/s (HomeKit asks 24 for AAC-ELD and Opus). */
export const CAMERA_AUDIO_KBPS_DEFAULT = 24;
/** SRTP authentication tag of AES_CM_128_HMAC_SHA1_80, in bytes: RTP packets are made this much
 *  smaller than the viewer's MTU so the protected packet fits it. */
export const SRTP_AUTH_TAG_BYTES = 10;
/** Time to list ffmpeg's encoders (`ffmpeg -encoders`), in ms. */
export const FFMPEG_ENCODERS_TIMEOUT_MS = 10_000;
/** Simulator: the /grab picture's largest width, in pixels. */
export const SIM_GRAB_MAX_WIDTH = 1_920;
/** Simulator: longest a /grab picture may take to make, in ms. */
export const SIM_GRAB_TIMEOUT_MS = 10_000;
