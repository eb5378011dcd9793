<?php
// php-leak.php [ROUNDS]: the memory PHP's zend_mm keeps asking for, round after round
// (tools/lib/php.py leak; issue 22).
//
// Each round builds, then frees:
//  - an array of 200,000 short strings and 20,000 objects in reference cycles: small and large
//    blocks, i.e. many 2 MiB chunks, which zend_mm maps 2 MiB-aligned (map 2 MiB; when that is not
//    aligned, unmap it, map 4 MiB less a page and unmap the head and the tail);
//  - huge strings of 3 to 10 MiB, which zend_mm maps on their own (2 MiB-aligned too);
//  - a huge string grown by appending (zend_mm first tries to map the pages right after it);
//  - a huge string shrunk in place: fread() of 12 MiB from a 3 MiB stream truncates its buffer,
//    which zend_mm does by unmapping the buffer's tail;
//  - a packed array of 600,000 integers (a huge block that grows by reallocation).
// Then gc_collect_cycles() frees the cycles and gc_mem_caches() hands zend_mm's cached chunks
// back to munmap. Every round prints one line beginning with "round "; under node with
// PHP_ROUNDS=1, tests/peers/php-rounds.js prints the memory readings after each such line.
// Run with -d memory_limit=-1.

const MIB = 1 << 20;

function small_blocks(int $round): int
{
    $strings = [];
    for ($i = 0; $i < 200000; $i++) {
        $strings[] = str_repeat(chr(97 + $i % 26), 40 + ($i * 7 + $round) % 160) . $i;
    }
    $nodes = [];
    for ($i = 0; $i < 20000; $i++) {
        $a = new stdClass();
        $b = new stdClass();
        $a->peer = $b;
        $b->peer = $a;
        $a->data = str_repeat('n', 64 + $i % 64);
        $nodes[] = $a;
    }
    $n = count($strings) + count($nodes);
    unset($strings, $nodes);
    return $n;
}

function huge_blocks(int $round): int
{
    $kept = [];
    for ($mib = 3; $mib <= 10; $mib++) {
        $kept[] = str_repeat(chr(65 + $mib), $mib * MIB + 4096 * ($round % 7));
    }
    $grown = str_repeat('g', 3 * MIB);
    for ($i = 0; $i < 4; $i++) {
        $grown .= str_repeat('h', MIB + 1000 * $i);
    }
    $stream = fopen('php://memory', 'w+');
    fwrite($stream, str_repeat('s', 3 * MIB + 12345));
    rewind($stream);
    $shrunk = fread($stream, 12 * MIB);
    fclose($stream);
    $ints = [];
    for ($i = 0; $i < 600000; $i++) {
        $ints[] = $i;
    }
    $n = strlen($grown) + strlen($shrunk) + count($ints) + array_sum(array_map('strlen', $kept));
    unset($kept, $grown, $shrunk, $ints);
    return $n;
}

$rounds = (int) ($argv[1] ?? 50);
for ($round = 1; $round <= $rounds; $round++) {
    $work = small_blocks($round) + huge_blocks($round);
    $collected = gc_collect_cycles();
    gc_mem_caches();
    printf("round %d: work %d, collected %d, zend_mm real %.1f MiB, peak %.1f MiB\n", $round, $work, $collected,
           memory_get_usage(true) / MIB, memory_get_peak_usage(true) / MIB);
}
echo "php-leak: $rounds rounds done\n";
