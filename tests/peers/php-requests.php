<?php
// php-requests.php [REQUESTS]: one PHP instance serving many requests, as a server keeps one
// (tools/lib/php.py requests; issue 27). Each request
//  - renders a page: 2,000 rows of arrays built, turned into HTML with string building and
//    htmlspecialchars, encoded to JSON and decoded back, and 3,000 objects in reference cycles;
//  - handles an upload: a string of 3 to 10 MiB that grows by appending 256 KiB at a time (a
//    huge block reallocated larger, again and again), then is cut short (read back through a
//    stream that was asked for more: its buffer is reallocated smaller);
//  - ends as a request ends: everything dropped, cycles collected, zend_mm's cached chunks
//    handed back (gc_mem_caches).
// After requests 1, 10, 100 and the last it prints a line beginning with "round " (under node
// with PHP_ROUNDS=1, tests/peers/php-rounds.js then prints the memory readings), and at the end
// the time per request. Run with -d memory_limit=-1.

const MIB = 1 << 20;

function render_page(int $req): int
{
    $rows = [];
    for ($i = 0; $i < 2000; $i++) {
        $rows[] = ['id' => $i, 'title' => "Post $i of request $req", 'tags' => ['t' . $i % 7, 'u' . $i % 11],
                   'score' => $i * 1.5, 'body' => str_repeat('lorem ', 5 + $i % 20)];
    }
    $html = '<table>';
    foreach ($rows as $r) {
        $html .= '<tr><td>' . $r['id'] . '</td><td>' . htmlspecialchars($r['title']) . '</td><td>'
               . implode(',', $r['tags']) . '</td><td>' . number_format($r['score'], 1) . '</td></tr>' . "\n";
    }
    $html .= '</table>';
    $back = json_decode(json_encode($rows), true);
    $nodes = [];
    for ($i = 0; $i < 3000; $i++) {
        $a = new stdClass();
        $b = new stdClass();
        $a->peer = $b;
        $b->peer = $a;
        $a->payload = str_repeat('x', 50 + $i % 50);
        $nodes[] = $a;
    }
    $n = strlen($html) + count($back) + count($nodes);
    unset($rows, $html, $back, $nodes);
    return $n;
}

function handle_upload(int $req): int
{
    $target = (3 + $req % 8) * MIB + 4096 * ($req % 5);
    $body = str_repeat('u', MIB);
    while (strlen($body) < $target) {
        $body .= str_repeat(chr(97 + (strlen($body) >> 18) % 26), 256 * 1024);
    }
    $stream = fopen('php://memory', 'w+');
    fwrite($stream, $body);
    rewind($stream);
    $cut = fread($stream, strlen($body) + 2 * MIB);
    fclose($stream);
    $n = strlen($body) + strlen($cut);
    unset($body, $cut);
    return $n;
}

$requests = (int)($argv[1] ?? 300);
$checkpoints = [1, 10, 100, $requests];
$start = hrtime(true);
$work = 0;
for ($req = 1; $req <= $requests; $req++) {
    $work += render_page($req) + handle_upload($req);
    gc_collect_cycles();
    gc_mem_caches();
    if (in_array($req, $checkpoints, true)) {
        printf("round %d: work %d, zend_mm real %.1f MiB, peak %.1f MiB\n", $req, $work,
               memory_get_usage(true) / MIB, memory_get_peak_usage(true) / MIB);
    }
}
$ms = (hrtime(true) - $start) / 1e6;
printf("php-requests: %d requests in %.0f ms, %.2f ms per request\n", $requests, $ms, $ms / $requests);
