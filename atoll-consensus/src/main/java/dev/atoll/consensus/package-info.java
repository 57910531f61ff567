/** Pure consensus cores. Nothing here touches a clock, a thread, a socket or a file. */
package dev.atoll.consensus;
